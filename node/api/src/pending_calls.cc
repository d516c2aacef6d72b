#include "pending_calls.h"

#include <utility>
#include <vector>

namespace etsecd::api {

PendingCalls::PendingCalls(Error late, std::chrono::milliseconds sweep_every)
    : late_(std::move(late)), sweep_every_(sweep_every), sweeper_([this] { sweep_loop(); }) {}

PendingCalls::~PendingCalls() {
  close(late_);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  sweeper_.join();
}

std::shared_ptr<PendingCalls::Call> PendingCalls::add(Deadline deadline, GiveUp give_up) {
  auto call = std::make_shared<Call>();
  call->deadline = deadline;
  call->give_up = std::move(give_up);
  std::lock_guard lock(mu_);
  if (closed_) return nullptr;
  call->id = next_id_++;
  calls_.emplace(call->id, call);
  return call;
}

void PendingCalls::close(const Error& error) {
  std::vector<std::shared_ptr<Call>> given_up;
  {
    std::lock_guard lock(mu_);
    if (!closed_) closed_ = error;
    for (auto& [id, call] : calls_) {
      if (call->take()) given_up.push_back(call);
    }
    calls_.clear();
  }
  for (auto& call : given_up) call->give_up(error);
}

size_t PendingCalls::size() {
  std::lock_guard lock(mu_);
  size_t open = 0;
  for (const auto& [id, call] : calls_) open += call->answered() ? 0 : 1;
  return open;
}

void PendingCalls::sweep_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, sweep_every_, [this] { return stop_; });
    if (stop_) break;
    const auto now = std::chrono::steady_clock::now();
    // Taken calls leave here too: take() does not touch the registry.
    std::vector<std::shared_ptr<Call>> late;
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (it->second->answered()) {
        it = calls_.erase(it);
      } else if (it->second->deadline <= now && it->second->take()) {
        late.push_back(std::move(it->second));
        it = calls_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (auto& call : late) call->give_up(late_);
    lock.lock();
  }
}

}  // namespace etsecd::api
