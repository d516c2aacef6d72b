#pragma once
// Share repair after a crash inside repair.finish. The finish makes the raft log start after the
// snapshot (durable), then publishes the store's install (durable), then restores the raft core (memory
// only). A crash between the first two leaves a log that starts at A beside a store still installing A:
// a core built from that log believes A is applied while the store refuses every apply, and the
// leader's next finish is refused as stale, so the member would stay unusable. This completes it.

#include <cstdint>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/store.h"

namespace etsecd::repair {

// Call on start, before the raft core is built from the log, with the log's snapshot index. Finishes
// the store's install (returns true) when it targets exactly that index: while an install to A is
// active the member's log can start at A only because that install's finish ran (its own compaction
// stays below the store's applied index, which is frozen during the install below A, since the leader
// streams only to members whose log ends before its own first index, at most A), and the finish is only
// sent after the last chunk, so every record is there. Otherwise it changes nothing (false): an
// install still waiting for chunks is left for the leader to resume.
// Errors: the store's (kStorage).
Result<bool> finish_interrupted_install(mvcc::Store& store, uint64_t raft_snapshot_index);

}  // namespace etsecd::repair
