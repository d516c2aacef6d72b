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
  p->peer = leader;
  p->deadline = deadline;
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

void ForwardStream::call_async(uint64_t peer, const std::string& method, const std::string& body,
                               Deadline deadline, Done done) {
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return done(mvcc::make_error(kTimeout));
  auto p = std::make_shared<Pending>();
  p->peer = peer;
  p->deadline = deadline;
  p->done = std::move(done);
  uint64_t id = 0;
  Finished finished;
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      finished.emplace_back(std::move(p->done), *closed_);
    } else {
      id = next_id_++;
      pending_[id] = p;
      expire_async(now, finished);
    }
  }
  run_finished(finished);
  if (id == 0) return;
  ForwardedRequest request{method, body,
                           std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)};
  send_(peer, encode_forward_request_frame(id, request));
}

void ForwardStream::on_result(uint64_t from, uint64_t id, Result<std::string> result) {
  Finished finished;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second->peer != from || it->second->result) return;
    finish(it, std::move(result), finished);
  }
  run_finished(finished);
}

void ForwardStream::fail(uint64_t peer, const Error& error) {
  Finished finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto next = std::next(it);
      if (it->second->peer == peer && !it->second->result) finish(it, error, finished);
      it = next;
    }
  }
  run_finished(finished);
}

void ForwardStream::close(const Error& error) {
  Finished finished;
  {
    std::lock_guard lock(mu_);
    closed_ = error;
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto next = std::next(it);
      if (!it->second->result) finish(it, error, finished);
      it = next;
    }
  }
  run_finished(finished);
}

void ForwardStream::expire_async(Deadline now, Finished& finished) {
  if (now < next_expiry_) return;
  next_expiry_ = now + kExpireEvery;
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (it->second->done && now >= it->second->deadline) finish(it, mvcc::make_error(kTimeout), finished);
    it = next;
  }
}

void ForwardStream::finish(std::map<uint64_t, std::shared_ptr<Pending>>::iterator it,
                           Result<std::string> result, Finished& finished) {
  auto& p = *it->second;
  if (p.done) {
    finished.emplace_back(std::move(p.done), std::move(result));
    pending_.erase(it);
    return;
  }
  p.result = std::move(result);
  p.cv.notify_one();
}

void ForwardStream::run_finished(Finished& finished) {
  for (auto& [done, result] : finished) done(std::move(result));
}

}  // namespace etsecd::server
