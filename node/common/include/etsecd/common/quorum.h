#pragma once
// Quorum arithmetic for n voters, threshold k and commit quorum W, kept free of everything else so the
// Raft core, the flags' validation and the operator share one definition.
//
// Why these numbers: an entry is committed once W voters have persisted their share, so a committed
// value has at least W holders. Any later leader hears from at least floor(n/2)+1 voters (it was
// elected by a majority) and, with the default W = ceil((n+k)/2), any W members overlap the committed
// holders in at least k members (W + W - n >= k), which is what it needs to rebuild every committed
// entry or prove it uncommitted. W below that default but at least max(floor(n/2)+1, k) still keeps
// every committed value rebuildable (W >= k) and keeps one commit per index (W is a majority), but a
// leader change while members are down may have to wait for them to return.

#include <cstdint>
#include <string>

#include "etsecd/common/result.h"

namespace etsecd::quorum {

inline constexpr std::uint32_t kMinThreshold = 2;
inline constexpr std::uint32_t kMaxMembers = 255;  // share indexes are 1..255 (GF(2^8) x coordinates)

constexpr std::uint32_t majority(std::uint32_t n) { return n / 2 + 1; }

// ceil((n + k) / 2): the smallest W with 2W - n >= k.
constexpr std::uint32_t default_commit_quorum(std::uint32_t n, std::uint32_t k) { return (n + k + 1) / 2; }

// max(floor(n/2)+1, k): the smallest W that still keeps one commit per index and k holders per value.
constexpr std::uint32_t min_commit_quorum(std::uint32_t n, std::uint32_t k) {
  return majority(n) > k ? majority(n) : k;
}

constexpr bool threshold_valid(std::uint32_t n, std::uint32_t k) {
  return k >= kMinThreshold && k <= n && n <= kMaxMembers;
}

constexpr bool commit_quorum_valid(std::uint32_t n, std::uint32_t k, std::uint32_t w) {
  return threshold_valid(n, k) && w >= min_commit_quorum(n, k) && w <= n;
}

// What a cluster with these settings survives. Each figure is a count of members that may be down.
struct FaultTolerance {
  std::uint32_t writes = 0;              // n - W: writes still commit
  std::uint32_t reads_after_commit = 0;  // W - k: a value committed a moment ago stays readable
  std::uint32_t reads_replicated = 0;    // n - k: a value on every member stays readable
  std::uint32_t elections = 0;           // n - majority: a leader can still be elected
};

constexpr FaultTolerance fault_tolerance(std::uint32_t n, std::uint32_t k, std::uint32_t w) {
  FaultTolerance t;
  t.writes = n >= w ? n - w : 0;
  t.reads_after_commit = w >= k ? w - k : 0;
  t.reads_replicated = n >= k ? n - k : 0;
  t.elections = n - majority(n);
  return t;
}

// True when the default quorum's overlap guarantee holds (2W - n >= k): a new leader never has to wait
// for members that are down to decide about an entry.
constexpr bool leader_change_never_stalls(std::uint32_t n, std::uint32_t k, std::uint32_t w) {
  return 2 * w >= n + k;
}

// Clear errors for bad settings. Codes: config.threshold_range, config.commit_quorum_range,
// config.too_many_members.
inline Status check_threshold(std::uint32_t n, std::uint32_t k) {
  if (n > kMaxMembers) {
    return make_error("config.too_many_members", "the initial cluster has " + std::to_string(n) +
                                                     " members; at most 255 are possible (share indexes "
                                                     "are 1..255)");
  }
  if (k < kMinThreshold || k > n) {
    return make_error("config.threshold_range", "--threshold=" + std::to_string(k) +
                                                    " is out of range: it must satisfy 2 <= k <= " +
                                                    std::to_string(n) + " (the number of voters)");
  }
  return Status::Ok();
}

inline Status check_commit_quorum(std::uint32_t n, std::uint32_t k, std::uint32_t w) {
  if (Status s = check_threshold(n, k); !s) return s;
  if (w < min_commit_quorum(n, k) || w > n) {
    return make_error("config.commit_quorum_range",
                      "--commit-quorum=" + std::to_string(w) + " is out of range for " + std::to_string(n) +
                          " members and threshold " + std::to_string(k) + ": allowed " +
                          std::to_string(min_commit_quorum(n, k)) + " <= W <= " + std::to_string(n) +
                          " (default " + std::to_string(default_commit_quorum(n, k)) + ")");
  }
  return Status::Ok();
}

}  // namespace etsecd::quorum
