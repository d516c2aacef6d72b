#pragma once
// Share repair, the computation: a member that has no shares (a learner, or a member that lost its data
// and rejoined under a new share index) gets, for every retained (key, revision), its share at its own x,
// computed from `threshold` good shares of the same record held by other members. Nobody rebuilds a
// value: repair_at evaluates the record's polynomial at the new x directly from the shares.
//
// This is the pure part, one chunk at a time, so the memory bound is the chunk's: the exported chunk
// plus threshold-1 other members' shares of the same records plus the output (about
// (threshold + 1) x the chunk's share bytes). Streaming the chunks between members is the host's job.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/backend.h"

namespace etsecd::repair {

using RecordList = std::vector<std::pair<mvcc::RecordKey, mvcc::Record>>;

// One other member's shares of a chunk's records (as from Store::shares_of): shares[i] belongs to
// chunk record i; nullopt where that member has none (a tombstone, or compacted since the export).
struct HolderShares {
  uint8_t x = 0;
  std::vector<std::optional<std::string>> shares;
};

struct RebuildStats {
  uint64_t records = 0;            // records produced
  uint64_t shares_computed = 0;    // put records given a share at the target x
  uint64_t share_bytes = 0;        // bytes of those shares
  uint64_t rejected_shares = 0;    // failed their checksum, or claimed another x or threshold
  uint64_t skipped_compacted = 0;  // records gone from the holders by compaction (see below)
  uint64_t checked_extra = 0;      // records where more than threshold shares confirmed the polynomial
  uint64_t outvoted_shares = 0;    // checksum-valid shares that disagreed with all the others
};

// The target member's records for one chunk exported by the member at `source_x` (whose own shares the
// chunk carries). Records keep their key, revision and metadata; put records get the share at
// `target_x`. A put record with fewer than `threshold` good shares is omitted if its main revision is
// below `holders_compact_revision` (the holders compacted it after the export; the target replays that
// compaction itself) and is an error otherwise. Every good share given is used: with k+1 the polynomial
// is confirmed, with k+2 or more one share that disagrees with all the others is outvoted.
// Errors: repair.bad_argument (target_x is 0 or one of the holders', holders misaligned with the chunk),
// repair.insufficient_shares, repair.inconsistent_shares (k+1 shares on different polynomials: a
// corrupt member; retry with other holders). Messages name keys' counts, never values or shares.
Result<RecordList> rebuild_chunk(const RecordList& chunk, uint8_t source_x,
                                 const std::vector<HolderShares>& holders, unsigned threshold,
                                 uint8_t target_x, int64_t holders_compact_revision,
                                 RebuildStats* stats = nullptr);

}  // namespace etsecd::repair
