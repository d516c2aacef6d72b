#pragma once
// Threads for work that blocks (a forwarded request waiting on its write, a client call waiting for a
// leader). They start on demand, up to a bound, and are kept: under load such work arrives every round
// trip, and starting a thread per task would cost what the hand-off saves. Tasks beyond the bound wait
// in order.

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace etsecd {

class ThreadPool {
 public:
  // `name` is the threads' name in ps, top and profiles (at most 15 characters).
  ThreadPool(std::string name, size_t max_threads)
      : name_(std::move(name)), max_threads_(std::max<size_t>(1, max_threads)) {}
  ~ThreadPool() { stop(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs `task` on a pool thread; after stop(), on the calling thread.
  void run(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        tasks_.push_back(std::move(task));
        if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
          threads_.emplace_back([this] {
            pthread_setname_np(pthread_self(), name_.c_str());
            work();
          });
        } else {
          cv_.notify_one();
        }
        return;
      }
    }
    task();
  }

  // Runs the queued tasks, then joins the threads.
  void stop() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
  }

 private:
  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;  // stopping, nothing left to run
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const std::string name_;
  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace etsecd
