// Which commit notices a leader holds back, which append makes one moot, and when they leave.

#include "commit_notices.h"

#include <doctest/doctest.h>

namespace etsecd::server {
namespace {

using namespace std::chrono_literals;
using Clock = CommitNotices::Clock;

TEST_CASE("a held notice leaves once due, the newest per follower") {
  CommitNotices notices(1ms);
  const auto t0 = Clock::now();
  CHECK(notices.empty());
  CHECK_FALSE(notices.due_at().has_value());

  REQUIRE(notices.hold(2, "commit 5 to 2", t0));
  REQUIRE(notices.hold(3, "commit 5 to 3", t0 + 100us));
  REQUIRE(notices.hold(2, "commit 6 to 2", t0 + 200us));
  // The first notice sets the time; later ones do not push it out.
  REQUIRE(notices.due_at().has_value());
  CHECK(*notices.due_at() == t0 + 1ms);

  CHECK(notices.release(t0 + 999us).empty());
  CHECK_FALSE(notices.empty());
  const auto sent = notices.release(t0 + 1ms);
  CHECK(sent == std::map<uint64_t, std::string>{{2, "commit 6 to 2"}, {3, "commit 5 to 3"}});
  CHECK(notices.empty());
  CHECK_FALSE(notices.due_at().has_value());
  CHECK(notices.release(t0 + 2ms).empty());
}

TEST_CASE("an append with entries makes that follower's notice moot") {
  CommitNotices notices(1ms);
  const auto t0 = Clock::now();
  REQUIRE(notices.hold(2, "commit 5 to 2", t0));
  REQUIRE(notices.hold(3, "commit 5 to 3", t0));
  notices.superseded(2);
  notices.superseded(4);  // nothing held for 4: no effect
  CHECK(notices.release(t0 + 1ms) == std::map<uint64_t, std::string>{{3, "commit 5 to 3"}});

  // Once everything is moot nothing is due, and the next notice starts a fresh delay.
  REQUIRE(notices.hold(3, "commit 7 to 3", t0 + 5ms));
  notices.superseded(3);
  CHECK(notices.empty());
  CHECK_FALSE(notices.due_at().has_value());
  REQUIRE(notices.hold(3, "commit 8 to 3", t0 + 6ms));
  CHECK(*notices.due_at() == t0 + 7ms);
}

TEST_CASE("a read releases every notice at once") {
  CommitNotices notices(1ms);
  const auto t0 = Clock::now();
  REQUIRE(notices.hold(2, "commit 5 to 2", t0));
  CHECK(notices.release(t0, /*all=*/true) == std::map<uint64_t, std::string>{{2, "commit 5 to 2"}});
  CHECK(notices.empty());
}

TEST_CASE("with no delay nothing is held") {
  CommitNotices notices(0us);
  CHECK_FALSE(notices.hold(2, "commit 5 to 2", Clock::now()));
  CHECK(notices.empty());
}

}  // namespace
}  // namespace etsecd::server
