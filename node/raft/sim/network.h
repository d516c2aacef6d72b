#pragma once
// The simulator's network: every message gets a random delay (so messages reorder), may be lost or
// duplicated, and is dropped at delivery time if a partition separates the two members.

#include <cstdint>
#include <map>
#include <vector>

#include "etsecd/raft/types.h"
#include "tests/test_random.h"

namespace etsecd::raft::sim {

struct NetworkFaults {
  double loss = 0.0;
  double duplicate = 0.0;
  unsigned max_delay = 1;  // steps; at least 1
};

class Network {
 public:
  explicit Network(testing::TestRandom& rng) : rng_(rng) {}

  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  void send(Message message, uint64_t now);
  // Messages due at `now`, in random order, without those crossing a partition.
  std::vector<Message> take_due(uint64_t now);

  // group[id]: members in different groups cannot talk. Members missing from the map are in group 0.
  void partition(std::map<MemberId, int> group) { group_ = std::move(group); }
  void heal() { group_.clear(); }
  bool partitioned() const { return !group_.empty(); }
  bool connected(MemberId a, MemberId b) const;
  size_t in_flight() const { return queue_.size(); }

 private:
  struct InFlight {
    uint64_t deliver_at;
    Message message;
  };
  testing::TestRandom& rng_;
  NetworkFaults faults_;
  std::vector<InFlight> queue_;
  std::map<MemberId, int> group_;
};

}  // namespace etsecd::raft::sim
