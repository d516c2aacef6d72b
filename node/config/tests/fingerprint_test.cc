#include "etsecd/config/fingerprint.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "test_args.h"

using namespace etsecd::config;
using namespace etsecd::config::testing;

namespace {

std::string fingerprint_of(const std::vector<std::string>& args) {
  auto r = run(args);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return cluster_fingerprint(r->config);
}

}  // namespace

TEST_CASE("fingerprint is stable across releases") {
  // A fixed vector: if this changes, members of different versions stop agreeing, so the encoding may
  // only change together with its version tag.
  std::vector<InitialMember> members = {{"m1", {"https", "127.0.0.1", 2380}, 1},
                                        {"m2", {"https", "127.0.0.1", 2381}, 2},
                                        {"m3", {"https", "::1", 2382}, 3}};
  const std::string fp = cluster_fingerprint(members, "tok", 2, 3);
  CHECK(fp.size() == 64);
  CHECK(fp == cluster_fingerprint(members, "tok", 2, 3));
  // Computed independently: sha256 of the documented encoding (see fingerprint.h), in Python.
  CHECK(fp == "ea5fc9e9c5f996f5565b8449f16275ff4d31cb4d7f7b419d87058cf2e352d68d");
}

TEST_CASE("fingerprint ignores member-local settings and flag order") {
  const auto b = base_args();
  const std::string fp = fingerprint_of(b);
  auto other_member = with(with(with(with(b, "--name=m1"), "--listen-peer-urls=http://127.0.0.1:2380"),
                                "--initial-advertise-peer-urls=http://127.0.0.1:2380"),
                           "--data-dir=/elsewhere");
  CHECK(fingerprint_of(other_member) == fp);
  auto reordered = b;
  std::reverse(reordered.begin(), reordered.end());
  CHECK(fingerprint_of(reordered) == fp);
  CHECK(fingerprint_of(with(b, "--log-level=debug")) == fp);
  CHECK(fingerprint_of(with(b, "--listen-metrics-urls=http://127.0.0.1:9")) == fp);
}

TEST_CASE("fingerprint changes with every shared setting") {
  const auto b = base_args();
  const std::string fp = fingerprint_of(b);
  CHECK(fingerprint_of(with(b, "--initial-cluster-token=other")) != fp);
  CHECK(fingerprint_of(with(b, "--threshold=3")) != fp);
  // n=3, k=2: W may be 2 or 3 (default 3).
  CHECK(fingerprint_of(with(b, "--commit-quorum=2")) != fp);
  CHECK(fingerprint_of(with(b, "--commit-quorum=3")) == fp);
  CHECK(fingerprint_of(with(b,
                            "--initial-cluster=m1=http://127.0.0.1:2381,m2=http://127.0.0.1:2480,"
                            "m3=http://127.0.0.1:2580")) != fp);
  CHECK(fingerprint_of(with(b,
                            "--initial-cluster=m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2480,"
                            "m3=http://127.0.0.1:2580,m4=http://127.0.0.1:2680")) != fp);
  // Same members in another order hand out other share indexes: the fingerprint must differ.
  CHECK(fingerprint_of(with(b,
                            "--initial-cluster=m3=http://127.0.0.1:2580,m2=http://127.0.0.1:2480,"
                            "m1=http://127.0.0.1:2380")) != fp);
}

TEST_CASE("fingerprint encoding is unambiguous") {
  std::vector<InitialMember> a = {{"ab", {"http", "h", 1}, 1}};
  std::vector<InitialMember> b = {{"a", {"http", "h", 1}, 1}};
  CHECK(cluster_fingerprint(a, "c", 2, 2) != cluster_fingerprint(b, "bc", 2, 2));
  CHECK(cluster_fingerprint(a, "t", 2, 3) != cluster_fingerprint(a, "t", 23, 0));
}
