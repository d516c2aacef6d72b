// The host's membership records: the member context in the replicated membership, the join answer /
// join.state file, peer URL checks and the ids of added members. Every malformed input is refused.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "../src/join_state.h"
#include "../src/member_context.h"
#include "etsecd/server/errors.h"
#include "etsecd/server/member.h"

using namespace etsecd;
using namespace etsecd::server;

TEST_CASE("member context round-trips and refuses what it did not write") {
  MemberContext c{"m4", {"https://127.0.0.1:2380", "https://[::1]:2380"}};
  auto back = decode_member_context(encode_member_context(c));
  REQUIRE(back.ok());
  CHECK(back->name == "m4");
  CHECK(back->peer_urls == c.peer_urls);

  auto unnamed = decode_member_context(encode_member_context(MemberContext{"", {"http://10.0.0.1:1"}}));
  REQUIRE(unnamed.ok());
  CHECK(unnamed->name.empty());

  for (std::string bad : {"", "etsecd-member-context-v1", "etsecd-member-context-v1\nname",
                          "etsecd-member-context-v2\nn\nhttp://a:1", "etsecd-member-context-v1\nn\n"}) {
    auto r = decode_member_context(raft::Bytes(bad.begin(), bad.end()));
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.error().code == "server.bad_member_context");
  }
}

TEST_CASE("peer URLs: scheme://host:port only, with etcd's error") {
  for (std::string ok : {"https://127.0.0.1:2380", "http://node-1.example:1", "https://[::1]:65535/"}) {
    CHECK_MESSAGE(check_peer_url(ok).ok(), ok);
  }
  for (std::string bad :
       {"", "127.0.0.1:2380", "ftp://a:1", "https://a", "https://a:", "https://a:0", "https://a:65536",
        "https://a:12x", "https://a:1/path", "https://u@a:1", "https://a b:1", "https://:1"}) {
    auto st = check_peer_url(bad);
    CHECK_MESSAGE(!st.ok(), bad);
    if (!st.ok()) {
      CHECK(mvcc::is(st.error(), kMemberBadUrls));
      CHECK(st.error().message.rfind("etcdserver: given member URLs are invalid", 0) == 0);
    }
  }
}

TEST_CASE("added member ids: same inputs same id, a new share index a new id") {
  const auto a = derive_added_member_id("https://127.0.0.1:2380", "tok", 4);
  CHECK(a != 0);
  CHECK(a == derive_added_member_id("https://127.0.0.1:2380", "tok", 4));
  CHECK(a != derive_added_member_id("https://127.0.0.1:2380", "tok", 5));
  CHECK(a != derive_added_member_id("https://127.0.0.1:2381", "tok", 4));
  CHECK(a != derive_added_member_id("https://127.0.0.1:2380", "tok2", 4));
  CHECK(a != derive_member_id("", "https://127.0.0.1:2380", "tok"));
}

TEST_CASE("join info round-trips, also through join.state, and refuses damage") {
  JoinInfo info;
  info.cluster_id = 77;
  info.fingerprint = "abcdef0123";
  info.bootstrap.threshold = 2;
  info.bootstrap.commit_quorum_override = 3;
  info.bootstrap.max_x_used = 3;
  for (uint8_t x = 1; x <= 3; ++x) {
    info.bootstrap.members.push_back(raft::Member{100u + x, x, true, {}});
    info.bootstrap_peers.push_back(
        PeerSpec{"member " + std::to_string(x), "https://127.0.0.1:" + std::to_string(2380 + x)});
  }
  info.self_id = 999;
  info.self_x = 4;
  auto back = decode_join_info(encode_join_info(info));
  REQUIRE(back.ok());
  CHECK(back->cluster_id == 77);
  CHECK(back->fingerprint == info.fingerprint);
  CHECK(back->bootstrap == info.bootstrap);
  REQUIRE(back->bootstrap_peers.size() == 3);
  CHECK(back->bootstrap_peers[1].name == "member 2");
  CHECK(back->bootstrap_peers[1].peer_url == "https://127.0.0.1:2382");
  CHECK(back->self_id == 999);
  CHECK(back->self_x == 4);

  const auto dir =
      std::filesystem::temp_directory_path() / ("etsecd-join-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  REQUIRE(write_join_state(dir.string(), info).ok());
  auto stored = read_join_state(dir.string());
  REQUIRE(stored.ok());
  CHECK(stored->bootstrap == info.bootstrap);
  std::filesystem::remove_all(dir);
  CHECK(!read_join_state(dir.string()).ok());

  const std::string good = encode_join_info(info);
  for (std::string bad : {std::string(), std::string("etsecd-join-v2\n"), good.substr(0, good.find("self")),
                          good + "member 5 0 1 https://x:1 n\n", good + "member 5 4 2 https://x:1 n\n",
                          good + "bogus 1\n", std::string("etsecd-join-v1\nself 1 4\nfingerprint f\n")}) {
    auto r = decode_join_info(bad);
    CHECK(!r.ok());
    if (!r.ok()) CHECK(r.error().code == "server.bad_join_state");
  }
}

TEST_CASE("peers.heard: a missing file is nobody, ids round-trip, a damaged file is refused") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("etsecd-heard-peers-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto none = read_heard_peers(dir.string());
  REQUIRE(none.ok());
  CHECK(none->empty());

  const std::set<uint64_t> ids = {1, 0x8e9e05c52164694dull, UINT64_MAX};
  REQUIRE(write_heard_peers(dir.string(), ids).ok());
  auto back = read_heard_peers(dir.string());
  REQUIRE(back.ok());
  CHECK(*back == ids);
  CHECK(!std::filesystem::exists(heard_peers_path(dir.string()) + ".tmp"));

  for (std::string bad : {"12\nabc\n", "0\n", "18446744073709551616\n", "12x\n", "-3\n", " 4\n"}) {
    std::ofstream(heard_peers_path(dir.string()), std::ios::trunc) << bad;
    auto r = read_heard_peers(dir.string());
    CHECK_MESSAGE(!r.ok(), bad);
  }
  std::filesystem::remove_all(dir);
}
