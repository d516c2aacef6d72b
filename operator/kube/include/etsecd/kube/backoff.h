#pragma once
// Exponential backoff with jitter and a cap, for retrying list/watch and API calls.

#include <chrono>
#include <cstdint>
#include <random>

namespace etsecd::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};  // client-go's reflector defaults
  std::chrono::milliseconds max{30'000};
  double factor = 2.0;
  double jitter = 0.5;  // each delay is base * (1 + jitter * U[0,1)), never above max
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}, std::uint64_t seed = std::random_device{}());
  // The delay before the next attempt; grows with each call until reset().
  std::chrono::milliseconds next();
  void reset();
  int attempts() const { return attempts_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 rng_;  // jitter only spreads retries; it protects nothing, so no CSPRNG needed
  int attempts_ = 0;
};

}  // namespace etsecd::kube
