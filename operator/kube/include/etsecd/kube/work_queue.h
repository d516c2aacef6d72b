#pragma once
// A keyed work queue for level-based reconcilers (client-go's workqueue semantics): a key queued many
// times is processed once; a key is never handed to two workers at once; a key re-added while being
// processed is processed again after done(); failures requeue with rate limiting. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "etsecd/kube/rate_limiter.h"

namespace etsecd::kube {

class WorkQueue {
 public:
  explicit WorkQueue(RateLimiterPolicy policy = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::steady_clock::duration delay);
  // Requeue after a failure, delayed by the rate limiter.
  void add_rate_limited(const std::string& key);
  // The key was reconciled successfully: reset its failure backoff.
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks for the next key; std::nullopt once shut down. Every returned key must be passed to done().
  std::optional<std::string> get();
  // Like get() but gives up after timeout (std::nullopt, check shutting_down()).
  std::optional<std::string> get_for(std::chrono::steady_clock::duration timeout);
  void done(const std::string& key);

  // Wakes all waiters; get() returns nullopt from now on; pending delayed keys are dropped.
  void shut_down();
  bool shutting_down() const;

  std::size_t depth() const;        // keys ready to be processed
  std::size_t delayed() const;      // keys waiting for their delay
  std::size_t in_progress() const;  // keys handed out and not yet done

 private:
  void add_locked(const std::string& key);
  void promote_due_locked(std::chrono::steady_clock::time_point now);
  std::optional<std::string> pop_locked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;  // queued (or to be requeued after processing)
  std::set<std::string> processing_;
  std::multimap<std::chrono::steady_clock::time_point, std::string> waiting_;
  std::map<std::string, std::chrono::steady_clock::time_point> waiting_due_;  // earliest due per key
  ItemRateLimiter limiter_;
  bool shutting_down_ = false;
};

}  // namespace etsecd::kube
