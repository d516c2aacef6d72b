#include "etsecd/kube/stop_signal.h"

namespace etsecd::kube {

void StopSignal::stop() {
  std::unique_lock lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  cv_.notify_all();
  // Callbacks run without the lock (they may take their own locks); remove_callback waits for them.
  while (!callbacks_.empty()) {
    auto it = callbacks_.begin();
    running_ = it->first;
    std::function<void()> callback = std::move(it->second);
    callbacks_.erase(it);
    lock.unlock();
    callback();
    lock.lock();
    running_ = 0;
    cv_.notify_all();
  }
}

bool StopSignal::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StopSignal::wait_for(std::chrono::steady_clock::duration d) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stopped_; });
}

std::uint64_t StopSignal::add_callback(std::function<void()> callback) {
  std::unique_lock lock(mu_);
  if (stopped_) {
    lock.unlock();
    callback();
    return 0;
  }
  std::uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(callback));
  return id;
}

void StopSignal::remove_callback(std::uint64_t id) {
  std::unique_lock lock(mu_);
  callbacks_.erase(id);
  cv_.wait(lock, [this, id] { return running_ != id; });
}

}  // namespace etsecd::kube
