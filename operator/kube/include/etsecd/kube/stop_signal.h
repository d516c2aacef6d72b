#pragma once
// A one-shot stop request shared by the threads of the operator: sleeps wake up early, and long-running
// operations (a watch's HTTP stream) register a callback that aborts them.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace etsecd::kube {

class StopSignal {
 public:
  void stop();
  bool stopped() const;
  // Sleeps up to d; returns true if stopped (at once or during the wait).
  bool wait_for(std::chrono::steady_clock::duration d) const;

  // Runs callback on stop() (at once if already stopped). Returns an id for remove_callback, which
  // waits until a running callback has finished, so the callback's captures may die afterwards.
  std::uint64_t add_callback(std::function<void()> callback);
  void remove_callback(std::uint64_t id);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
  std::uint64_t next_id_ = 1;
  std::uint64_t running_ = 0;  // id of the callback stop() is running now
  std::map<std::uint64_t, std::function<void()>> callbacks_;
};

}  // namespace etsecd::kube
