#include "etsecd/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace etsecd::kube {

ItemRateLimiter::ItemRateLimiter(RateLimiterPolicy policy) : policy_(policy), tokens_(policy.burst) {}

std::chrono::steady_clock::duration ItemRateLimiter::when(const std::string& key,
                                                          std::chrono::steady_clock::time_point now) {
  int failures = failures_[key]++;
  double max_ns = std::chrono::duration<double, std::nano>(policy_.max_delay).count();
  double exp_ns = std::chrono::duration<double, std::nano>(policy_.base_delay).count() *
                  std::pow(2.0, std::min(failures, 62));
  auto item = std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(exp_ns, max_ns)));
  return std::max<std::chrono::steady_clock::duration>(item, bucket_delay(now));
}

std::chrono::steady_clock::duration ItemRateLimiter::bucket_delay(std::chrono::steady_clock::time_point now) {
  if (policy_.qps <= 0) return std::chrono::steady_clock::duration::zero();
  if (!started_) {
    started_ = true;
    last_refill_ = now;
  }
  if (now > last_refill_) {
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    tokens_ = std::min<double>(policy_.burst, tokens_ + elapsed * policy_.qps);
    last_refill_ = now;
  }
  // Taking a token may drive the balance negative: that is a reservation, paid back at qps.
  tokens_ -= 1.0;
  if (tokens_ >= 0) return std::chrono::steady_clock::duration::zero();
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(-tokens_ / policy_.qps));
}

void ItemRateLimiter::forget(const std::string& key) { failures_.erase(key); }

int ItemRateLimiter::failures(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

}  // namespace etsecd::kube
