#pragma once
// Time, injected: decisions use the monotonic clock; wall time only goes into API objects
// (Lease renewTime, Event timestamps). Tests use a manual clock.

#include <chrono>
#include <mutex>
#include <string>

namespace etsecd::kube {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override { return std::chrono::system_clock::now(); }
};

const Clock& system_clock();

// A clock that only moves when told; thread-safe.
class ManualClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  std::chrono::system_clock::time_point wall_now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  void advance(std::chrono::steady_clock::duration d) {
    std::lock_guard lock(mu_);
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'790'000'000)};
};

// "2026-11-22T15:40:10.123456Z" (metav1.MicroTime) and "2026-11-22T15:40:10Z" (metav1.Time).
std::string format_micro_time(std::chrono::system_clock::time_point t);
std::string format_time(std::chrono::system_clock::time_point t);

}  // namespace etsecd::kube
