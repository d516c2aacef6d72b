#pragma once
// Threads for the few client calls a callback handler must not serve on gRPC's own threads because
// they block: forwarding while no leader is known yet or to a leader that takes no requests on its
// Raft stream, and retrying after a leadership loss. Threads start on demand, up to a bound, and stay.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace etsecd::api {

class BlockingPool {
 public:
  explicit BlockingPool(size_t max_threads) : max_threads_(max_threads) {}
  ~BlockingPool() { stop(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `task` on a pool thread; after stop(), on the calling thread.
  void run(std::function<void()> task);
  // Runs the queued tasks, then joins the threads.
  void stop();

 private:
  void work();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace etsecd::api
