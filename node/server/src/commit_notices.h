#pragma once
// A leader's commit-only appends (appends without entries: they only tell a follower the new commit
// index) wait a little for a ride. The next append to that follower carries the same commit index, so
// under a steady stream of writes the separate message is never sent, and neither are the follower's
// wake-ups and its separate apply for it. At one client on 5 members and 2 cores that message was a
// third of every put's CPU and landed exactly while the leader applied and answered.
//
// Raft is safe whenever followers learn the commit index; what changes is how far behind a follower's
// applied state may be: at most the delay, and not at all when someone needs it (a share fetch asks
// followers to have applied an index: the read path releases the held notices first).
//
// Plain data: the member loop decides what to hold and sends what is released.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace etsecd::server {

class CommitNotices {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CommitNotices(std::chrono::microseconds delay) : delay_(delay) {}

  // Holds `encoded` (a commit-only append to `to`) until due_at(); a newer one replaces it. With a zero
  // delay nothing is held: returns false and the caller sends it at once.
  bool hold(uint64_t to, std::string encoded, Clock::time_point now);
  // An append with entries leaves for `to`: it carries the newer commit index, so the held one is moot.
  void superseded(uint64_t to) { held_.erase(to); }

  bool empty() const { return held_.empty(); }
  // When the oldest held notice must leave; nullopt when none is held.
  std::optional<Clock::time_point> due_at() const;
  // The held notices, by recipient, if they are due at `now` (or all of them with `all`); they are no
  // longer held afterwards.
  std::map<uint64_t, std::string> release(Clock::time_point now, bool all = false);

 private:
  std::chrono::microseconds delay_;
  std::map<uint64_t, std::string> held_;
  Clock::time_point due_{};
};

}  // namespace etsecd::server
