#pragma once
// What a leader knows about one member during its term.

#include <cstdint>
#include <deque>

#include "etsecd/raft/types.h"

namespace etsecd::raft {

struct Progress {
  // kSnapshot: the leader no longer has entries the member lacks; appends pause (heartbeats go on)
  // until the host's share-repair stream ends (Node::report_snapshot).
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };

  uint64_t match = 0;  // highest index known to be durable on the member and equal to ours
  uint64_t next = 1;   // next index to send
  // Learned in this term: the member lacks our entry at this index, hence (log matching) every later
  // one. kNoIndex = not known. The drop rule for a new leader's uncommitted suffix counts these.
  uint64_t lacks_from = kNoIndex;
  State state = State::kProbe;
  bool probe_sent = false;
  uint64_t status_probed = 0;     // entry asked about this heartbeat interval (see send_append)
  bool recent_active = false;     // heard from since the last CheckQuorum round
  std::deque<uint64_t> inflight;  // last index of each append in flight (replicate state)
  unsigned snapshot_elapsed = 0;  // kSnapshot: ticks since the request; asked again after a long wait
  // The member's first stored index, from its share-fetch answers (0 = not known): it can no longer
  // supply shares of earlier entries.
  uint64_t log_start = 0;

  void free_inflight_through(uint64_t index) {
    while (!inflight.empty() && inflight.front() <= index) inflight.pop_front();
  }
};

}  // namespace etsecd::raft
