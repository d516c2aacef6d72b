#pragma once
// The member-to-member messages of share repair (docs/protocol.md section 9): the repairing leader asks
// holders for their shares of exported records, and streams the new member its records chunk by chunk.
//   repair.shares  holder  <- leader: this member's shares of the listed records
//   repair.begin   target  <- leader: start (or resume) installing snapshot `source` at `point`
//   repair.chunk   target  <- leader: the next records, each with the target's own share
//   repair.finish  target  <- leader: publish the snapshot; carries the raft snapshot meta (opaque here)
// Only the target's own shares travel to it; a holder's shares travel only to the leader.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/backend.h"

namespace etsecd::wire {

inline constexpr char kRepairSharesMethod[] = "repair.shares";
inline constexpr char kRepairBeginMethod[] = "repair.begin";
inline constexpr char kRepairChunkMethod[] = "repair.chunk";
inline constexpr char kRepairFinishMethod[] = "repair.finish";

using RepairRecords = std::vector<std::pair<mvcc::RecordKey, mvcc::Record>>;

struct RepairSharesRequest {
  uint64_t min_applied = 0;  // the snapshot's applied index: a holder behind it answers nothing
  std::vector<mvcc::RecordKey> records;
  friend bool operator==(const RepairSharesRequest&, const RepairSharesRequest&) = default;
};

struct RepairSharesResponse {
  std::vector<std::optional<std::string>> shares;  // one per requested record; nullopt: not held
  friend bool operator==(const RepairSharesResponse&, const RepairSharesResponse&) = default;
};

struct RepairBeginRequest {
  uint64_t source = 0;
  mvcc::SnapshotPoint point;
  friend bool operator==(const RepairBeginRequest&, const RepairBeginRequest&) = default;
};

// Where the target stands: resuming the same snapshot after `cursor`, or starting afresh.
struct RepairBeginResponse {
  std::optional<mvcc::RecordKey> cursor;
  friend bool operator==(const RepairBeginResponse&, const RepairBeginResponse&) = default;
};

struct RepairChunkRequest {
  uint64_t source = 0;
  RepairRecords records;
  friend bool operator==(const RepairChunkRequest&, const RepairChunkRequest&) = default;
};

struct RepairFinishRequest {
  uint64_t source = 0;
  std::string raft_snapshot;  // the raft layer's encoded snapshot meta (index, term, membership)
  friend bool operator==(const RepairFinishRequest&, const RepairFinishRequest&) = default;
};

// Errors for every decode: wire.truncated (malformed), wire.bad_version, wire.trailing_bytes.
std::string encode_repair_shares_request(const RepairSharesRequest& m);
Result<RepairSharesRequest> decode_repair_shares_request(std::span<const uint8_t> bytes);
std::string encode_repair_shares_response(const RepairSharesResponse& m);
Result<RepairSharesResponse> decode_repair_shares_response(std::span<const uint8_t> bytes);
std::string encode_repair_begin_request(const RepairBeginRequest& m);
Result<RepairBeginRequest> decode_repair_begin_request(std::span<const uint8_t> bytes);
std::string encode_repair_begin_response(const RepairBeginResponse& m);
Result<RepairBeginResponse> decode_repair_begin_response(std::span<const uint8_t> bytes);
std::string encode_repair_chunk_request(const RepairChunkRequest& m);
Result<RepairChunkRequest> decode_repair_chunk_request(std::span<const uint8_t> bytes);
std::string encode_repair_finish_request(const RepairFinishRequest& m);
Result<RepairFinishRequest> decode_repair_finish_request(std::span<const uint8_t> bytes);

}  // namespace etsecd::wire
