#include "etsecd/common/quorum.h"

#include <doctest/doctest.h>

namespace q = etsecd::quorum;

TEST_CASE("quorum arithmetic table") {
  struct Row {
    unsigned n, k, default_w, min_w, writes, reads_after_commit, reads_replicated;
  };
  // n, k -> default W = ceil((n+k)/2), min W = max(floor(n/2)+1, k), tolerances at the default W.
  const Row rows[] = {
      {2, 2, 2, 2, 0, 0, 0},
      {3, 2, 3, 2, 0, 1, 1},
      {3, 3, 3, 3, 0, 0, 0},
      {4, 2, 3, 3, 1, 1, 2},
      {4, 3, 4, 3, 0, 1, 1},
      {5, 2, 4, 3, 1, 2, 3},
      {5, 3, 4, 3, 1, 1, 2},
      {5, 4, 5, 4, 0, 1, 1},
      {5, 5, 5, 5, 0, 0, 0},
      {7, 3, 5, 4, 2, 2, 4},
      {7, 4, 6, 4, 1, 2, 3},
      {9, 5, 7, 5, 2, 2, 4},
      {255, 128, 192, 128, 63, 64, 127},
  };
  for (const Row& r : rows) {
    CAPTURE(r.n);
    CAPTURE(r.k);
    CHECK(q::default_commit_quorum(r.n, r.k) == r.default_w);
    CHECK(q::min_commit_quorum(r.n, r.k) == r.min_w);
    q::FaultTolerance t = q::fault_tolerance(r.n, r.k, r.default_w);
    CHECK(t.writes == r.writes);
    CHECK(t.reads_after_commit == r.reads_after_commit);
    CHECK(t.reads_replicated == r.reads_replicated);
    CHECK(t.elections == r.n - (r.n / 2 + 1));
    CHECK(q::commit_quorum_valid(r.n, r.k, r.default_w));
    CHECK(q::leader_change_never_stalls(r.n, r.k, r.default_w));
    CHECK(q::check_commit_quorum(r.n, r.k, r.default_w).ok());
  }
}

TEST_CASE("the default quorum is the smallest W whose two quorums overlap in k members") {
  for (unsigned n = 2; n <= 40; ++n) {
    for (unsigned k = 2; k <= n; ++k) {
      unsigned w = q::default_commit_quorum(n, k);
      CHECK(2 * w >= n + k);
      CHECK(2 * (w - 1) < n + k);
      CHECK(w <= n);
      CHECK(w >= q::min_commit_quorum(n, k));
    }
  }
}

TEST_CASE("commit quorum range is enforced with the allowed range in the message") {
  CHECK(q::commit_quorum_valid(5, 3, 3));
  CHECK_FALSE(q::commit_quorum_valid(5, 3, 2));
  CHECK_FALSE(q::commit_quorum_valid(5, 3, 6));
  CHECK_FALSE(q::commit_quorum_valid(5, 4, 3));  // below k
  CHECK_FALSE(q::leader_change_never_stalls(5, 3, 3));

  etsecd::Status low = q::check_commit_quorum(5, 3, 2);
  REQUIRE_FALSE(low.ok());
  CHECK(low.error().code == "config.commit_quorum_range");
  CHECK(low.error().message.find("allowed 3 <= W <= 5") != std::string::npos);
  CHECK(low.error().message.find("default 4") != std::string::npos);
  CHECK_FALSE(q::check_commit_quorum(5, 3, 6).ok());
  // W below k even though it is a majority.
  etsecd::Status below_k = q::check_commit_quorum(7, 5, 4);
  REQUIRE_FALSE(below_k.ok());
  CHECK(below_k.error().message.find("allowed 5 <= W <= 7") != std::string::npos);
}

TEST_CASE("threshold range") {
  CHECK(q::check_threshold(3, 2).ok());
  CHECK(q::check_threshold(3, 3).ok());
  CHECK(q::check_threshold(3, 1).error().code == "config.threshold_range");
  CHECK(q::check_threshold(3, 4).error().code == "config.threshold_range");
  CHECK(q::check_threshold(1, 2).error().code == "config.threshold_range");
  CHECK(q::check_threshold(256, 2).error().code == "config.too_many_members");
  CHECK(q::check_threshold(3, 4).error().message.find("2 <= k <= 3") != std::string::npos);
  static_assert(q::default_commit_quorum(5, 3) == 4);
  static_assert(q::min_commit_quorum(5, 3) == 3);
}
