#include "etsecd/kube/work_queue.h"

namespace etsecd::kube {

WorkQueue::WorkQueue(RateLimiterPolicy policy) : limiter_(policy) {}

WorkQueue::~WorkQueue() { shut_down(); }

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  add_locked(key);
}

void WorkQueue::add_locked(const std::string& key) {
  if (!dirty_.insert(key).second) return;   // already queued: de-duplicated
  if (processing_.count(key) != 0) return;  // done() requeues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, std::chrono::steady_clock::duration delay) {
  if (delay <= std::chrono::steady_clock::duration::zero()) {
    add(key);
    return;
  }
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  auto due = std::chrono::steady_clock::now() + delay;
  auto existing = waiting_due_.find(key);
  if (existing != waiting_due_.end()) {
    if (existing->second <= due) return;  // an earlier wake-up is already planned
    auto [first, last] = waiting_.equal_range(existing->second);
    for (auto it = first; it != last; ++it) {
      if (it->second == key) {
        waiting_.erase(it);
        break;
      }
    }
    existing->second = due;
  } else {
    waiting_due_.emplace(key, due);
  }
  waiting_.emplace(due, key);
  cv_.notify_all();  // a getter may need an earlier wake-up
}

void WorkQueue::add_rate_limited(const std::string& key) {
  std::chrono::steady_clock::duration delay;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    delay = limiter_.when(key, std::chrono::steady_clock::now());
  }
  add_after(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  limiter_.forget(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  return limiter_.failures(key);
}

void WorkQueue::promote_due_locked(std::chrono::steady_clock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waiting_due_.erase(key);
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::pop_locked() {
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::get() { return get_for(std::chrono::steady_clock::duration::max()); }

std::optional<std::string> WorkQueue::get_for(std::chrono::steady_clock::duration timeout) {
  std::unique_lock lock(mu_);
  auto start = std::chrono::steady_clock::now();
  bool forever = timeout == std::chrono::steady_clock::duration::max();
  auto deadline = forever ? std::chrono::steady_clock::time_point::max() : start + timeout;
  while (true) {
    if (shutting_down_) return std::nullopt;
    auto now = std::chrono::steady_clock::now();
    promote_due_locked(now);
    if (!queue_.empty()) return pop_locked();
    if (now >= deadline) return std::nullopt;
    auto wake = deadline;
    if (!waiting_.empty() && waiting_.begin()->first < wake) wake = waiting_.begin()->first;
    if (wake == std::chrono::steady_clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, wake);
    }
  }
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) != 0 && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shut_down() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  waiting_due_.clear();
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::depth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t WorkQueue::delayed() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

std::size_t WorkQueue::in_progress() const {
  std::lock_guard lock(mu_);
  return processing_.size();
}

}  // namespace etsecd::kube
