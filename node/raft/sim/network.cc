#include "sim/network.h"

#include <algorithm>

namespace etsecd::raft::sim {

void Network::send(Message message, uint64_t now) {
  if (rng_.chance(faults_.loss)) return;
  const unsigned copies = rng_.chance(faults_.duplicate) ? 2 : 1;
  for (unsigned c = 0; c < copies; ++c) {
    const uint64_t delay = 1 + rng_.below(std::max(1u, faults_.max_delay));
    queue_.push_back(InFlight{now + delay, message});
  }
}

std::vector<Message> Network::take_due(uint64_t now) {
  std::vector<Message> due;
  size_t keep = 0;
  for (size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i].deliver_at <= now) {
      if (connected(queue_[i].message.from, queue_[i].message.to))
        due.push_back(std::move(queue_[i].message));
    } else {
      if (keep != i) queue_[keep] = std::move(queue_[i]);
      ++keep;
    }
  }
  queue_.resize(keep);
  for (size_t i = due.size(); i > 1; --i) std::swap(due[i - 1], due[rng_.below(i)]);
  return due;
}

bool Network::connected(MemberId a, MemberId b) const {
  if (group_.empty()) return true;
  auto ga = group_.find(a);
  auto gb = group_.find(b);
  return (ga == group_.end() ? 0 : ga->second) == (gb == group_.end() ? 0 : gb->second);
}

}  // namespace etsecd::raft::sim
