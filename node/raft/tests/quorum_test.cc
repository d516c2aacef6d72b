#include "etsecd/raft/quorum.h"

#include <doctest/doctest.h>

using namespace etsecd::raft;

TEST_CASE("default commit quorum is ceil((n+k)/2)") {
  CHECK(default_commit_quorum(3, 2) == 3);
  CHECK(default_commit_quorum(5, 3) == 4);
  CHECK(default_commit_quorum(5, 2) == 4);
  CHECK(default_commit_quorum(7, 4) == 6);
  CHECK(default_commit_quorum(7, 2) == 5);
}

TEST_CASE("allowed commit quorum range is max(floor(n/2)+1, k) .. n") {
  CHECK(resolve_quorum(5, 3, 0)->commit_quorum == 4);
  CHECK(resolve_quorum(5, 3, 3)->commit_quorum == 3);
  CHECK(resolve_quorum(5, 3, 5)->commit_quorum == 5);
  auto low = resolve_quorum(5, 3, 2);
  REQUIRE_FALSE(low.ok());
  CHECK(low.error().code == "raft.invalid_commit_quorum");
  CHECK(low.error().message.find("3 <= W <= n=5") != std::string::npos);
  CHECK_FALSE(resolve_quorum(5, 3, 6).ok());
  CHECK(resolve_quorum(7, 5, 5)->commit_quorum == 5);
  CHECK_FALSE(resolve_quorum(7, 2, 3).ok());  // below a majority
}

TEST_CASE("threshold must satisfy 2 <= k <= n") {
  CHECK(resolve_quorum(3, 1, 0).error().code == "raft.invalid_threshold");
  CHECK(resolve_quorum(3, 4, 0).error().code == "raft.invalid_threshold");
  CHECK(resolve_quorum(0, 2, 0).error().code == "raft.no_voters");
  CHECK(resolve_quorum(256, 2, 0).error().code == "raft.too_many_members");
}

TEST_CASE("fault tolerances") {
  const FaultTolerance f = fault_tolerance(*resolve_quorum(5, 3, 0));
  CHECK(f.writes == 1);
  CHECK(f.elections == 2);
  CHECK(f.reads_after_commit == 1);
  CHECK(f.reads_fully_replicated == 2);
  CHECK(f.leader_change_never_stalls);
  const FaultTolerance g = fault_tolerance(*resolve_quorum(5, 3, 3));
  CHECK(g.writes == 2);
  CHECK(g.reads_after_commit == 0);
  CHECK_FALSE(g.leader_change_never_stalls);
  CHECK(describe(*resolve_quorum(5, 3, 3)).find("may stall") != std::string::npos);
  CHECK(describe(*resolve_quorum(5, 3, 0)).find("n=5 k=3 W=4") == 0);
}

TEST_CASE("initial membership assigns x by position and validates") {
  auto m = initial_membership({7, 9, 4}, 2, 0);
  REQUIRE(m.ok());
  CHECK(m->members[0] == Member{7, 1, true, {}});
  CHECK(m->members[2] == Member{4, 3, true, {}});
  CHECK(m->max_x_used == 3);
  CHECK(initial_membership({7, 7, 4}, 2, 0).error().code == "raft.invalid_membership");
  CHECK(initial_membership({7, 0, 4}, 2, 0).error().code == "raft.invalid_membership");
  Membership bad = *m;
  bad.members[1].x = 1;
  CHECK(validate_membership(bad).error().code == "raft.invalid_membership");
  bad = *m;
  bad.members[1].x = 4;  // beyond max_x_used
  CHECK_FALSE(validate_membership(bad).ok());
  bad = *m;
  bad.members[2].voter = false;  // 2 voters, k=2: W must be 2
  CHECK(validate_membership(bad)->commit_quorum == 2);
}
