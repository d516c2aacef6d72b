#pragma once
// What a leader knows about one member during its term.

#include <cstdint>
#include <deque>

#include "etsecd/raft/types.h"

namespace etsecd::raft {

struct Progress {
  enum class State : uint8_t { kProbe, kReplicate };

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

  void free_inflight_through(uint64_t index) {
    while (!inflight.empty() && inflight.front() <= index) inflight.pop_front();
  }
};

}  // namespace etsecd::raft
