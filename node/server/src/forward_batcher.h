#pragma once
// A follower's client requests that need the leader, coalesced: callers queue their request, and while
// fewer than `max_in_flight` batches are on the way to that leader, one of the waiting callers takes
// everything queued and sends it as one peer call. An idle member therefore sends a lone request at once;
// under load, the requests that arrive during one round trip share the next call and its TLS work.
// Each caller still gets its own result or error, and gives up at its own deadline.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "etsecd/common/result.h"

namespace etsecd::server {

class ForwardBatcher {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // Sends one encoded batch (forward_batch_codec.h) to `leader` and returns the encoded results.
  using Send = std::function<Result<std::string>(uint64_t leader, const std::string& body, Deadline)>;

  ForwardBatcher(Send send, size_t max_in_flight, size_t max_batch);

  // Blocks until the leader answered this request or `deadline` passed (server.timeout).
  Result<std::string> call(uint64_t leader, std::string method, std::string body, Deadline deadline);

 private:
  struct Pending {
    std::string method;
    std::string body;
    Deadline deadline;
    bool taken = false;
    std::optional<Result<std::string>> result;
    // Each caller sleeps on its own condition: a finished batch wakes exactly its requests (and one
    // queued caller to send the next batch), not every caller waiting on this member.
    std::condition_variable cv;
  };
  struct Lane {
    std::deque<std::shared_ptr<Pending>> queue;
    size_t in_flight = 0;
  };
  void send_batch(std::unique_lock<std::mutex>& lock, uint64_t leader, Lane& lane);

  Send send_;
  size_t max_in_flight_;
  size_t max_batch_;
  std::mutex mu_;
  std::map<uint64_t, Lane> lanes_;
};

}  // namespace etsecd::server
