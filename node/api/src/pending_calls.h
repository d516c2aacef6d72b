#pragma once
// Client calls answered later by a callback (a write that applied, the leader's answer to a forwarded
// request). Each is answered exactly once: by whoever takes it first, by a sweeper once its deadline
// passed (the member notices an unanswered forward only when later calls come), or when the server
// stops. gRPC's callback server waits for every call at shutdown, so none may be left unanswered; an
// outcome that arrives later finds its call taken and must touch nothing else.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "etsecd/common/result.h"

namespace etsecd::api {

class PendingCalls {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  using GiveUp = std::function<void(const Error&)>;  // answers the call with an error

  class Call {
   public:
    bool answered() const { return taken_.load(std::memory_order_acquire); }
    // True for exactly one taker, who must then answer the call (and may touch its request and
    // response objects); false once someone else took it. Touches only the call, so an outcome that
    // arrives after the server (and this registry) is gone can still ask.
    bool take() { return !taken_.exchange(true, std::memory_order_acq_rel); }

   private:
    friend class PendingCalls;
    std::atomic<bool> taken_{false};
    uint64_t id = 0;
    Deadline deadline;
    GiveUp give_up;
  };

  // `late` is the error for calls whose deadline passed.
  explicit PendingCalls(Error late, std::chrono::milliseconds sweep_every = std::chrono::milliseconds(100));
  ~PendingCalls();
  PendingCalls(const PendingCalls&) = delete;
  PendingCalls& operator=(const PendingCalls&) = delete;

  // Registers a call. Null after close(): the caller answers it with close()'s error itself.
  std::shared_ptr<Call> add(Deadline deadline, GiveUp give_up);
  // Gives up every registered call with `error` and refuses new ones.
  void close(const Error& error);
  // Calls registered and not taken yet.
  size_t size();

 private:
  void sweep_loop();

  Error late_;
  std::chrono::milliseconds sweep_every_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> calls_;
  uint64_t next_id_ = 1;
  std::optional<Error> closed_;
  bool stop_ = false;
  std::thread sweeper_;
};

}  // namespace etsecd::api
