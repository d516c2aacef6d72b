// The conf change codec and apply_conf_change: the pure rules behind membership changes.
#include "etsecd/raft/conf_change.h"

#include <doctest/doctest.h>

#include "etsecd/raft/quorum.h"

using namespace etsecd::raft;

namespace {

Membership three(unsigned k = 2, unsigned w = 0) {
  auto m = initial_membership({1, 2, 3}, k, w);
  REQUIRE(m.ok());
  return *m;
}

std::string code_of(const etsecd::Result<Membership>& r) { return r ? std::string("ok") : r.error().code; }

}  // namespace

TEST_CASE("conf change codec round-trips every type and refuses malformed input") {
  for (ConfChangeType type : {ConfChangeType::kAddLearner, ConfChangeType::kPromote, ConfChangeType::kRemove,
                              ConfChangeType::kUpdate}) {
    ConfChange cc{type, 0x0102030405060708ull, 9, {'n', '=', 'a', 0, 255}};
    auto back = decode_conf_change(encode_conf_change(cc));
    REQUIRE(back.ok());
    CHECK(*back == cc);
  }
  const Bytes good = encode_conf_change(ConfChange{ConfChangeType::kUpdate, 5, 0, {1, 2, 3}});
  for (size_t cut = 0; cut < good.size(); ++cut) {
    auto r = decode_conf_change(Bytes(good.begin(), good.begin() + static_cast<long>(cut)));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "raft.bad_conf_change");
  }
  Bytes trailing = good;
  trailing.push_back(0);
  CHECK(decode_conf_change(trailing).error().code == "raft.bad_conf_change");
  Bytes version = good;
  version[0] = 2;
  CHECK(decode_conf_change(version).error().code == "raft.bad_conf_change");
  Bytes type = good;
  type[1] = 4;
  CHECK(decode_conf_change(type).error().code == "raft.bad_conf_change");
  CHECK(decode_conf_change({}).error().code == "raft.bad_conf_change");
}

TEST_CASE("add learner assigns a fresh x, stores the context and never reuses an index") {
  Membership m = three();
  auto added = apply_conf_change(m, ConfChange{ConfChangeType::kAddLearner, 10, 0, {'u'}});
  REQUIRE(added.ok());
  REQUIRE(added->members.size() == 4);
  CHECK(added->members[3] == Member{10, 4, false, {'u'}});
  CHECK(added->max_x_used == 4);
  CHECK(validate_membership(*added)->voters == 3);  // a learner counts toward no quorum

  auto removed = apply_conf_change(*added, ConfChange{ConfChangeType::kRemove, 10, 0, {}});
  REQUIRE(removed.ok());
  CHECK(removed->max_x_used == 4);  // x=4 stays used
  auto again = apply_conf_change(*removed, ConfChange{ConfChangeType::kAddLearner, 11, 0, {}});
  REQUIRE(again.ok());
  CHECK(again->members.back().x == 5);
  CHECK(code_of(apply_conf_change(*removed, ConfChange{ConfChangeType::kAddLearner, 11, 4, {}})) ==
        "raft.x_reused");
  auto explicit_x = apply_conf_change(*removed, ConfChange{ConfChangeType::kAddLearner, 11, 9, {}});
  REQUIRE(explicit_x.ok());
  CHECK(explicit_x->max_x_used == 9);

  CHECK(code_of(apply_conf_change(m, ConfChange{ConfChangeType::kAddLearner, 2, 0, {}})) ==
        "raft.member_exists");
  CHECK(code_of(apply_conf_change(m, ConfChange{ConfChangeType::kAddLearner, kNoMember, 0, {}})) ==
        "raft.bad_conf_change");
  Membership full = m;
  full.max_x_used = 255;
  CHECK(code_of(apply_conf_change(full, ConfChange{ConfChangeType::kAddLearner, 12, 0, {}})) ==
        "raft.bad_conf_change");
}

TEST_CASE("promote turns a learner into a voter and recomputes the quorum") {
  Membership m = three(3);  // n=3 k=3 W=3
  auto added = apply_conf_change(m, ConfChange{ConfChangeType::kAddLearner, 10, 0, {}});
  REQUIRE(added.ok());
  auto promoted = apply_conf_change(*added, ConfChange{ConfChangeType::kPromote, 10, 0, {}});
  REQUIRE(promoted.ok());
  CHECK(promoted->members.back().voter);
  auto q = validate_membership(*promoted);
  REQUIRE(q.ok());
  CHECK(q->voters == 4);
  CHECK(q->commit_quorum == 4);  // default ceil((4+3)/2)
  CHECK(code_of(apply_conf_change(*promoted, ConfChange{ConfChangeType::kPromote, 10, 0, {}})) ==
        "raft.not_learner");
  CHECK(code_of(apply_conf_change(m, ConfChange{ConfChangeType::kPromote, 77, 0, {}})) ==
        "raft.unknown_member");
}

TEST_CASE("remove refuses to leave k above the voter count, W out of range, or no voter") {
  Membership m = three(3);
  auto r = apply_conf_change(m, ConfChange{ConfChangeType::kRemove, 2, 0, {}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "raft.invalid_threshold");
  CHECK(r.error().message.find("2 <= k <= voters (2)") != std::string::npos);

  Membership fixed_w = three(2, 3);  // W=3 requested explicitly: invalid for 2 voters
  auto w = apply_conf_change(fixed_w, ConfChange{ConfChangeType::kRemove, 3, 0, {}});
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code == "raft.invalid_commit_quorum");
  CHECK(w.error().message.find("<= W <= n=2") != std::string::npos);

  Membership defaults = three(2);
  auto ok = apply_conf_change(defaults, ConfChange{ConfChangeType::kRemove, 3, 0, {}});
  REQUIRE(ok.ok());
  CHECK(validate_membership(*ok)->commit_quorum == 2);
  CHECK(code_of(apply_conf_change(defaults, ConfChange{ConfChangeType::kRemove, 9, 0, {}})) ==
        "raft.unknown_member");

  Membership one;
  one.threshold = 1;  // not a valid cluster, but enough to reach the last-voter rule first
  one.members = {Member{1, 1, true, {}}, Member{2, 2, false, {}}};
  one.max_x_used = 2;
  CHECK(code_of(apply_conf_change(one, ConfChange{ConfChangeType::kRemove, 1, 0, {}})) == "raft.last_voter");
}

TEST_CASE("update replaces only the context") {
  Membership m = three();
  auto u = apply_conf_change(m, ConfChange{ConfChangeType::kUpdate, 2, 0, {'p', 'u'}});
  REQUIRE(u.ok());
  Membership expected = m;
  expected.members[1].context = {'p', 'u'};
  CHECK(*u == expected);
  CHECK(code_of(apply_conf_change(m, ConfChange{ConfChangeType::kUpdate, 8, 0, {}})) ==
        "raft.unknown_member");
}
