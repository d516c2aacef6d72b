#include "forward_batcher.h"

#include <algorithm>
#include <vector>

#include "etsecd/server/errors.h"
#include "forward_batch_codec.h"

namespace etsecd::server {

ForwardBatcher::ForwardBatcher(Send send, size_t max_in_flight, size_t max_batch)
    : send_(std::move(send)),
      max_in_flight_(std::max<size_t>(1, max_in_flight)),
      max_batch_(std::max<size_t>(1, max_batch)) {}

Result<std::string> ForwardBatcher::call(uint64_t leader, std::string method, std::string body,
                                         Deadline deadline) {
  auto p = std::make_shared<Pending>();
  p->method = std::move(method);
  p->body = std::move(body);
  p->deadline = deadline;
  std::unique_lock lock(mu_);
  Lane& lane = lanes_[leader];
  lane.queue.push_back(p);
  for (;;) {
    if (p->result) return std::move(*p->result);
    if (!lane.queue.empty() && lane.in_flight < max_in_flight_) {
      send_batch(lock, leader, lane);
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      // Not yet sent: it never reaches the leader. Already sent: the outcome is unknown, as with any
      // timed-out write.
      if (!p->taken) lane.queue.erase(std::find(lane.queue.begin(), lane.queue.end(), p));
      return mvcc::make_error(kTimeout);
    }
    p->cv.wait_until(lock, deadline);
  }
}

void ForwardBatcher::send_batch(std::unique_lock<std::mutex>& lock, uint64_t leader, Lane& lane) {
  std::vector<std::shared_ptr<Pending>> batch;
  const auto now = std::chrono::steady_clock::now();
  Deadline latest = now;
  while (!lane.queue.empty() && batch.size() < max_batch_) {
    auto p = std::move(lane.queue.front());
    lane.queue.pop_front();
    p->taken = true;
    latest = std::max(latest, p->deadline);
    batch.push_back(std::move(p));
  }
  ++lane.in_flight;
  lock.unlock();

  std::vector<ForwardedRequest> requests;
  requests.reserve(batch.size());
  for (const auto& p : batch) {
    requests.push_back(ForwardedRequest{
        p->method, p->body,
        std::chrono::duration_cast<std::chrono::milliseconds>(std::max(p->deadline, now) - now)});
  }
  auto answer = send_(leader, encode_forward_batch(requests), latest);
  Result<std::vector<Result<std::string>>> results =
      answer ? decode_forward_results(*answer, batch.size())
             : Result<std::vector<Result<std::string>>>(answer.error());

  lock.lock();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results) {
      batch[i]->result = std::move((*results)[i]);
    } else {
      batch[i]->result = results.error();  // the call itself failed: every request in it did
    }
  }
  --lane.in_flight;
  for (const auto& p : batch) p->cv.notify_one();
  // A slot is free again: the oldest queued caller sends what piled up meanwhile.
  if (!lane.queue.empty()) lane.queue.front()->cv.notify_one();
}

}  // namespace etsecd::server
