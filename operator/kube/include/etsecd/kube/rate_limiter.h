#pragma once
// How long a failed key waits before it is retried: the larger of a per-key exponential backoff
// (5ms doubling to 1000s, as client-go's default controller rate limiter) and an overall token bucket
// (10 per second, burst 100) so that many failing keys cannot hammer the API server together.

#include <chrono>
#include <map>
#include <string>

namespace etsecd::kube {

struct RateLimiterPolicy {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1'000'000};
  double qps = 10.0;
  int burst = 100;
};

// Not thread-safe; the work queue serialises calls.
class ItemRateLimiter {
 public:
  explicit ItemRateLimiter(RateLimiterPolicy policy = {});
  // Records one more failure of key and returns how long to wait before retrying it.
  std::chrono::steady_clock::duration when(const std::string& key, std::chrono::steady_clock::time_point now);
  // The key succeeded: its backoff starts over.
  void forget(const std::string& key);
  int failures(const std::string& key) const;

 private:
  std::chrono::steady_clock::duration bucket_delay(std::chrono::steady_clock::time_point now);

  RateLimiterPolicy policy_;
  std::map<std::string, int> failures_;
  double tokens_;
  std::chrono::steady_clock::time_point last_refill_{};
  bool started_ = false;
};

}  // namespace etsecd::kube
