#include "commit_notices.h"

#include <utility>

namespace etsecd::server {

bool CommitNotices::hold(uint64_t to, std::string encoded, Clock::time_point now) {
  if (delay_.count() <= 0) return false;
  // The first notice held sets the time: later ones ride along rather than pushing it out, so under
  // a steady trickle of commits followers still hear of them within the delay.
  if (held_.empty()) due_ = now + delay_;
  held_[to] = std::move(encoded);
  return true;
}

std::optional<CommitNotices::Clock::time_point> CommitNotices::due_at() const {
  if (held_.empty()) return std::nullopt;
  return due_;
}

std::map<uint64_t, std::string> CommitNotices::release(Clock::time_point now, bool all) {
  if (held_.empty() || (!all && now < due_)) return {};
  return std::exchange(held_, {});
}

}  // namespace etsecd::server
