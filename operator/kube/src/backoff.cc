#include "etsecd/kube/backoff.h"

#include <algorithm>
#include <cmath>

namespace etsecd::kube {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  if (policy_.initial.count() <= 0 || policy_.max.count() <= 0) return std::chrono::milliseconds(0);
  double max_ms = static_cast<double>(policy_.max.count());
  double base = static_cast<double>(policy_.initial.count()) * std::pow(policy_.factor, attempts_);
  base = std::min(base, max_ms);
  if (base < max_ms) ++attempts_;  // stop growing the exponent once capped (no overflow to inf)
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double delay = std::min(max_ms, base * (1.0 + policy_.jitter * unit(rng_)));
  return std::chrono::milliseconds(static_cast<std::int64_t>(delay));
}

void Backoff::reset() { attempts_ = 0; }

}  // namespace etsecd::kube
