#include "etsecd/pki/pki.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

using namespace etsecd::pki;
using namespace std::chrono_literals;

namespace {
const TimePoint kNow = std::chrono::system_clock::from_time_t(1'800'000'000);
constexpr std::chrono::seconds kYear = 24h * 365;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("a CA is self-signed, marked as CA and valid for the requested period") {
  auto ca = create_ca("etsecd-ca", kNow, 10 * kYear);
  REQUIRE(ca.ok());
  auto info = inspect_certificate(ca->certificate_pem);
  REQUIRE(info.ok());
  CHECK(info->is_ca);
  CHECK(info->common_name == "etsecd-ca");
  CHECK(info->not_before <= kNow);
  CHECK(info->not_after == kNow + 10 * kYear);
  CHECK(verify_signed_by(ca->certificate_pem, ca->certificate_pem, kNow).ok());
  CHECK(verify_key_matches(ca->certificate_pem, ca->private_key_pem).ok());
  CHECK(ca->private_key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
}

TEST_CASE("a leaf chains to its CA and carries the requested names") {
  auto ca = create_ca("etsecd-ca", kNow, 10 * kYear);
  REQUIRE(ca.ok());
  LeafRequest req;
  req.common_name = "demo-0";
  req.dns_names = {"demo-0.demo-peer.ns.svc", "demo-0.demo-peer.ns.svc.cluster.local"};
  req.ip_addresses = {"127.0.0.1", "::1"};
  req.validity = kYear;
  auto leaf = issue_leaf(*ca, req, kNow);
  REQUIRE(leaf.ok());
  auto info = inspect_certificate(leaf->certificate_pem);
  REQUIRE(info.ok());
  CHECK_FALSE(info->is_ca);
  CHECK(info->common_name == "demo-0");
  CHECK(contains(info->dns_names, "demo-0.demo-peer.ns.svc"));
  CHECK(contains(info->dns_names, "demo-0.demo-peer.ns.svc.cluster.local"));
  CHECK(contains(info->ip_addresses, "127.0.0.1"));
  CHECK(contains(info->ip_addresses, "::1"));
  CHECK(verify_signed_by(leaf->certificate_pem, ca->certificate_pem, kNow).ok());
  CHECK(verify_key_matches(leaf->certificate_pem, leaf->private_key_pem).ok());

  SUBCASE("but not to another CA") {
    auto other = create_ca("other", kNow, kYear);
    REQUIRE(other.ok());
    auto s = verify_signed_by(leaf->certificate_pem, other->certificate_pem, kNow);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == "pki.untrusted");
  }
  SUBCASE("and is rejected after it expired") {
    CHECK_FALSE(verify_signed_by(leaf->certificate_pem, ca->certificate_pem, kNow + 2 * kYear).ok());
  }
  SUBCASE("and its key is not another certificate's key") {
    CHECK(verify_key_matches(leaf->certificate_pem, ca->private_key_pem).error().code == "pki.key_mismatch");
  }
  SUBCASE("two leaves never share a key") {
    auto second = issue_leaf(*ca, req, kNow);
    REQUIRE(second.ok());
    CHECK(second->private_key_pem != leaf->private_key_pem);
  }
}

TEST_CASE("renewal starts within the renewal window before expiry") {
  auto ca = create_ca("ca", kNow, 10 * kYear);
  REQUIRE(ca.ok());
  auto leaf = issue_leaf(*ca, LeafRequest{"c", {"c.example"}, {}, true, true, 90 * 24h}, kNow);
  REQUIRE(leaf.ok());
  auto info = inspect_certificate(leaf->certificate_pem);
  REQUIRE(info.ok());
  constexpr std::chrono::seconds window = 30 * 24h;
  CHECK_FALSE(needs_renewal(*info, kNow, window));
  CHECK_FALSE(needs_renewal(*info, kNow + 59 * 24h, window));
  CHECK(needs_renewal(*info, kNow + 60 * 24h, window));
  CHECK(needs_renewal(*info, kNow + 200 * 24h, window));
}

TEST_CASE("bad input gives a clear error") {
  CHECK(inspect_certificate("not a certificate").error().code == "pki.bad_certificate");
  KeyAndCertificate broken{"garbage", "garbage"};
  CHECK(issue_leaf(broken, LeafRequest{"x", {"x"}, {}, true, true, kYear}, kNow).error().code ==
        "pki.bad_certificate");
  auto ca = create_ca("ca", kNow, kYear);
  REQUIRE(ca.ok());
  auto other = create_ca("other", kNow, kYear);
  REQUIRE(other.ok());
  KeyAndCertificate mismatched{ca->certificate_pem, other->private_key_pem};
  CHECK(issue_leaf(mismatched, LeafRequest{"x", {"x"}, {}, true, true, kYear}, kNow).error().code ==
        "pki.key_mismatch");
  CHECK(issue_leaf(*ca, LeafRequest{"x", {}, {}, true, false, kYear}, kNow).error().code == "pki.no_names");
}
