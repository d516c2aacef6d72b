#pragma once
// The leader's side of a forwarded batch (forward_batcher.h): every request in it runs at once, each on
// its own thread and with its own deadline, as if it had arrived as its own call, so one slow or failing
// request neither delays nor fails the others, on a ThreadPool.
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "etsecd/common/result.h"
#include "etsecd/common/thread_pool.h"
#include "forward_batch_codec.h"

namespace etsecd::server {

class ForwardBatchServer {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  using Handler = std::function<Result<std::string>(const std::string& method, const std::string& body,
                                                    Deadline deadline)>;

  explicit ForwardBatchServer(size_t max_threads) : pool_("forward-worker", max_threads) {}
  ForwardBatchServer(const ForwardBatchServer&) = delete;
  ForwardBatchServer& operator=(const ForwardBatchServer&) = delete;

  // Decodes the batch, runs each request through `handler`, returns the encoded results in order.
  // Errors: server.malformed_batch.
  Result<std::string> serve(const std::string& body, const Handler& handler);
  // One forwarded request through `handler`; only "api.*" methods may be forwarded.
  static Result<std::string> serve_one(const ForwardedRequest& request, Deadline deadline,
                                       const Handler& handler);
  // Runs `task` on a pooled thread (a request forwarded on the Raft stream, forward_stream.h).
  void run(std::function<void()> task) { pool_.run(std::move(task)); }
  // Runs what is queued and waits for every running request (the member stopped, so they end soon):
  // their replies call into the API adapter, which the process destroys next.
  void stop() { pool_.stop(); }

 private:
  ThreadPool pool_;
};

}  // namespace etsecd::server
