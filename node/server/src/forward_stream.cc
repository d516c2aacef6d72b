#include "forward_stream.h"

#include "etsecd/mvcc/errors.h"
#include "etsecd/server/errors.h"
#include "forward_batch_codec.h"

namespace etsecd::server {

Result<std::string> ForwardStream::call(uint64_t leader, const std::string& method, const std::string& body,
                                        Deadline deadline) {
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return mvcc::make_error(kTimeout);
  auto p = std::make_shared<Pending>();
  p->leader = leader;
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_) return *closed_;
    id = next_id_++;
    pending_[id] = p;
  }
  ForwardedRequest request{method, body,
                           std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)};
  send_(leader, encode_forward_request_frame(id, request));

  std::unique_lock lock(mu_);
  if (!p->cv.wait_until(lock, deadline, [&] { return p->result.has_value(); })) {
    pending_.erase(id);
    return mvcc::make_error(kTimeout);
  }
  pending_.erase(id);
  return std::move(*p->result);
}

void ForwardStream::on_result(uint64_t from, uint64_t id, Result<std::string> result) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second->leader != from || it->second->result) return;
  it->second->result = std::move(result);
  it->second->cv.notify_one();
}

void ForwardStream::fail(uint64_t leader, const Error& error) {
  std::lock_guard lock(mu_);
  for (auto& [id, p] : pending_) {
    if (p->leader != leader || p->result) continue;
    p->result = error;
    p->cv.notify_one();
  }
}

void ForwardStream::close(const Error& error) {
  std::lock_guard lock(mu_);
  closed_ = error;
  for (auto& [id, p] : pending_) {
    if (p->result) continue;
    p->result = error;
    p->cv.notify_one();
  }
}

}  // namespace etsecd::server
