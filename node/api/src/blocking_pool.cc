#include "blocking_pool.h"

#include <utility>

namespace etsecd::api {

void BlockingPool::run(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      if (idle_ < queue_.size() && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
      cv_.notify_one();
      return;
    }
  }
  task();
}

void BlockingPool::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

void BlockingPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping, nothing left
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace etsecd::api
