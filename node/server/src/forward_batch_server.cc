#include "forward_batch_server.h"

#include <condition_variable>
#include <mutex>
#include <vector>

#include "forward_batch_codec.h"

namespace etsecd::server {

Result<std::string> ForwardBatchServer::serve(const std::string& body, const Handler& handler) {
  auto requests = decode_forward_batch(body);
  if (!requests) return requests.error();
  const auto now = std::chrono::steady_clock::now();
  const size_t n = requests->size();
  std::vector<Result<std::string>> results(n, Result<std::string>(std::string()));
  auto one = [&](size_t i) {
    const auto& r = (*requests)[i];
    results[i] = serve_one(r, now + r.time_left, handler);
  };

  std::mutex done_mu;
  std::condition_variable done_cv;
  size_t left = n > 0 ? n - 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    run([&, i] {
      one(i);
      std::lock_guard lock(done_mu);
      if (--left == 0) done_cv.notify_one();
    });
  }
  if (n > 0) one(0);  // the calling transport thread takes the first request itself
  std::unique_lock lock(done_mu);
  done_cv.wait(lock, [&] { return left == 0; });
  return encode_forward_results(results);
}

Result<std::string> ForwardBatchServer::serve_one(const ForwardedRequest& request, Deadline deadline,
                                                  const Handler& handler) {
  if (request.method.rfind("api.", 0) != 0)
    return make_error("server.unknown_method", "method '" + request.method + "' cannot be forwarded");
  return handler(request.method, request.body, deadline);
}

}  // namespace etsecd::server
