#pragma once
// A follower's client requests that need the leader, carried on the Raft stream to the leader instead
// of one peer call each (forwarding by unary call cost about as much CPU as the whole write on the
// leader: call set-up, headers and three TLS records each way). The request rides in the same batches
// as Raft messages; the leader runs it and sends the result back on its own stream to this member.
// A request whose leader stops being reachable, or stops leading, fails at once (the write may or may
// not have happened, as when a peer call breaks); otherwise the caller waits until its deadline.
// Share fetches to any member ride the same way (call_async), for the same savings.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::server {

class ForwardStream {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // Sends one encoded frame (forward_batch_codec.h) on `peer`'s stream. The member passes
  // PeerTransport::send_forward, which writes it on the calling thread when the stream is idle and so
  // may block on flow control: callers are never the member loop or a transport thread.
  using Send = std::function<void(uint64_t peer, std::string frame)>;

  explicit ForwardStream(Send send) : send_(std::move(send)) {}

  // Blocks until `leader` answered or `deadline` passed (server.timeout); the request gets the time left.
  Result<std::string> call(uint64_t leader, const std::string& method, const std::string& body,
                           Deadline deadline);
  // Sends the request to `peer` (any member that reads frames, e.g. a share fetch) and returns; `done`
  // runs once: with the answer on the transport thread that read it, with fail()'s error, or with
  // server.timeout once `deadline` passed (noticed by a later call, at most every kExpireEvery).
  using Done = std::function<void(Result<std::string>)>;
  void call_async(uint64_t peer, const std::string& method, const std::string& body, Deadline deadline,
                  Done done);
  // A result frame from `from` (transport thread). Results for requests not sent to `from`, or whose
  // caller gave up, are ignored.
  void on_result(uint64_t from, uint64_t id, Result<std::string> result);
  // Fails every request waiting on `peer` with `error` (its stream broke, or it no longer leads).
  void fail(uint64_t peer, const Error& error);
  // Fails every waiting request (the member stops) and refuses new ones.
  void close(const Error& error);

 private:
  static constexpr std::chrono::milliseconds kExpireEvery{100};

  struct Pending {
    uint64_t peer = 0;  // the member the request went to
    std::optional<Result<std::string>> result;
    std::condition_variable cv;
    Done done;  // call_async's; then the caller does not wait on cv
    Deadline deadline;
  };
  using Finished = std::vector<std::pair<Done, Result<std::string>>>;

  // Under mu_: ends the asynchronous requests whose deadline passed, for running after the lock.
  void expire_async(Deadline now, Finished& finished);
  // Under mu_: records `result` for `it` (and removes an asynchronous request, for running after the lock).
  void finish(std::map<uint64_t, std::shared_ptr<Pending>>::iterator it, Result<std::string> result,
              Finished& finished);
  static void run_finished(Finished& finished);

  Send send_;
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;
  Deadline next_expiry_{};
  std::optional<Error> closed_;
};

}  // namespace etsecd::server
