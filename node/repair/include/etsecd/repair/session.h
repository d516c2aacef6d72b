#pragma once
// Share repair, the leader's side: streams a member that has no shares its records at one consistent
// snapshot point of this member's store, each with the member's own share computed from k holders
// (this member plus k-1 others). Transport-agnostic: `call` is the peer RPC (the server passes its mTLS
// peer transport; tests pass receivers directly). docs/protocol.md section 9.
//
// Integrity: it asks k holders when there are that many, so with its own share every record's
// polynomial is confirmed by k+1 shares; when they disagree it asks one more holder (k+2 outvote one bad
// share) rather than plant a wrong share.
// Memory: one chunk at a time: at most `max_records` records / about `max_bytes` of shares exported,
// plus the same again from each holder asked (k, rarely more), plus the rebuilt chunk: about
// (k + 2) x max_bytes. Defaults: 1024 records, 4 MiB -> about 20 MiB at k=3.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/repair/rebuild_chunk.h"

namespace etsecd::repair {

struct Peer {
  uint64_t id = 0;
  uint8_t x = 0;
};

using CallFn =
    std::function<Result<std::string>(uint64_t member, const std::string& method, const std::string& body)>;

struct SessionOptions {
  size_t max_records = 1024;
  uint64_t max_bytes = 4ull << 20;
  const std::atomic<bool>* cancel = nullptr;  // set to stop between chunks (repair.cancelled)
};

struct SessionStats {
  bool resumed = false;  // the target was already installing this snapshot
  // Why the plan's resume point was not used (empty: it was, or there was none). The stream then
  // started over at the store's current point; the host logs this.
  std::string restart_reason;
  uint64_t chunks = 0;  // chunks sent in this session
  uint64_t holder_failures = 0;
  RebuildStats rebuild;
  mvcc::SnapshotPoint point;
};

// A snapshot an earlier, interrupted session streamed: resuming it continues the target's install
// after its persisted cursor instead of starting over.
struct ResumePoint {
  uint64_t source = 0;
  mvcc::SnapshotPoint point;
  bool operator==(const ResumePoint&) const = default;
};

struct SessionPlan {
  uint8_t self_x = 0;
  unsigned threshold = 0;
  std::vector<Peer> holders;  // other members holding shares, in order of preference
  Peer target;
  uint64_t source = 0;  // identifies this snapshot; a retry with the same source resumes
  // The point of an interrupted earlier session to this target. Used (with its source, so the target
  // continues after its cursor) only while this store can still export exactly that snapshot: it has
  // applied at least its index and no compaction happened since (records at or below its revision are
  // then unchanged), and raft_snapshot still knows its index. Otherwise the session starts over at the
  // current point (restart_reason says why); one install never mixes two points.
  std::optional<ResumePoint> resume;
  // Told the (source, point) once it is fixed, before anything is sent (what a retry passes as resume),
  // and why the resume point was not used (empty: it was, or there was none).
  std::function<void(const ResumePoint&, const std::string& restart_reason)> fixed;
  // The raft layer's snapshot meta for the store's point (called once, after the point is fixed).
  std::function<Result<std::string>(const mvcc::SnapshotPoint&)> raft_snapshot;
};

// Errors: repair.cancelled, repair.no_holders (fewer than k-1 holders answered), the target's errors
// (transport or mvcc codes), rebuild_chunk's errors when no holder set gives k good shares.
Result<SessionStats> run_session(const mvcc::Store& store, const SessionPlan& plan, const CallFn& call,
                                 const SessionOptions& options = {});

}  // namespace etsecd::repair
