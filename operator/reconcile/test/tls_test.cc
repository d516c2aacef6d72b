// The certificates the reconciler mints: chains, names, renewal, and an existing CA.
#include <doctest/doctest.h>

#include <algorithm>

#include "etsecd/pki/pki.h"
#include "test_world.h"

using namespace etsecd;
using namespace etsecd::reconcile;
using namespace etsecd::reconcile::testing;
using namespace std::chrono_literals;

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("member and client certificates chain to the cluster CA and name every host") {
  World w(cluster_object(5, 3));
  w.apply(w.reconcile_once());
  const auto& ca = w.observed.secrets.at("demo-ca").data;
  const auto& members = w.observed.secrets.at("demo-member-tls").data;
  const auto& client = w.observed.secrets.at("demo-client-tls").data;
  REQUIRE(ca.count("ca.crt"));
  CHECK(members.at("ca.crt") == ca.at("ca.crt"));
  CHECK(members.size() == 1 + 5 * 4);
  for (int i = 0; i < 5; ++i) {
    const std::string m = "demo-" + std::to_string(i);
    for (const char* kind : {"peer", "server"}) {
      const std::string& cert = members.at(m + "." + kind + ".crt");
      CHECK(pki::verify_signed_by(cert, ca.at("ca.crt"), w.now).ok());
      CHECK(pki::verify_key_matches(cert, members.at(m + "." + kind + ".key")).ok());
      auto info = pki::inspect_certificate(cert);
      REQUIRE(info.ok());
      CHECK(info->common_name == m);
      CHECK(contains(info->dns_names, m + ".demo-peer.ns.svc.cluster.local"));
      CHECK(contains(info->dns_names, m + ".demo-peer.ns.svc"));
    }
    auto server = pki::inspect_certificate(members.at(m + ".server.crt"));
    CHECK(contains(server->dns_names, "demo.ns.svc.cluster.local"));
    CHECK(contains(server->dns_names, "localhost"));
    CHECK(contains(server->ip_addresses, "127.0.0.1"));
  }
  CHECK(pki::verify_signed_by(client.at("tls.crt"), ca.at("ca.crt"), w.now).ok());
  CHECK(client.at("ca.crt") == ca.at("ca.crt"));
}

TEST_CASE("certificates are renewed within the renewal window, and only then") {
  World w(cluster_object(3, 2));
  w.converge();
  w.form_cluster();
  w.converge();
  const auto before = w.observed.secrets.at("demo-member-tls").data;
  Plan steady = w.reconcile_once();
  CHECK(steady.actions.empty());
  REQUIRE(steady.requeue.after);

  w.now += 300 * 24h;  // 65 days before expiry: keep
  CHECK_FALSE(has_action(w.reconcile_once(), "apply Secret"));

  w.now = kNow + 340 * 24h;  // 25 days before expiry: renew, same CA
  Plan renew = w.reconcile_once();
  CHECK(has_action(renew, "apply Secret ns/demo-member-tls"));
  CHECK(has_action(renew, "apply Secret ns/demo-client-tls"));
  CHECK_FALSE(has_action(renew, "apply Secret ns/demo-ca"));
  w.apply(renew);
  const auto& after = w.observed.secrets.at("demo-member-tls").data;
  CHECK(after.at("demo-0.peer.crt") != before.at("demo-0.peer.crt"));
  CHECK(after.at("ca.crt") == before.at("ca.crt"));
  auto info = pki::inspect_certificate(after.at("demo-0.peer.crt"));
  CHECK(info->not_after > w.now + 300 * 24h);
}

TEST_CASE("the steady requeue is never later than the next renewal") {
  World w(cluster_object(3, 2));
  w.observed.config.certificate_validity = 31 * 24h;  // renewal due in a day
  w.converge();
  w.form_cluster();
  w.converge();
  Plan plan = w.reconcile_once();
  REQUIRE(plan.requeue.after);
  CHECK(*plan.requeue.after == std::chrono::seconds(300));
  w.now += 24h - 100s;
  plan = w.reconcile_once();
  CHECK(plan.actions.empty());
  CHECK(*plan.requeue.after == std::chrono::seconds(100));
}

TEST_CASE("a tampered certificate is replaced") {
  World w(cluster_object(3, 2));
  w.converge();
  w.observed.secrets["demo-member-tls"].data["demo-1.peer.key"] =
      w.observed.secrets["demo-member-tls"].data["demo-2.peer.key"];
  Plan plan = w.reconcile_once();
  CHECK(has_action(plan, "apply Secret ns/demo-member-tls"));
  w.apply(plan);
  const auto& d = w.observed.secrets["demo-member-tls"].data;
  CHECK(pki::verify_key_matches(d.at("demo-1.peer.crt"), d.at("demo-1.peer.key")).ok());
}

TEST_CASE("an existing CA signs the member certificates; no operator CA is made") {
  auto ca = pki::create_ca("corp", kNow, 3650 * 24h);
  REQUIRE(ca.ok());
  World w(cluster_object(3, 2, {{"tls", {{"existingCASecret", "corp-ca"}}}}));
  w.observed.secrets["corp-ca"] =
      ObservedSecret{"corp-ca", {{"tls.crt", ca->certificate_pem}, {"tls.key", ca->private_key_pem}}, ""};
  Plan plan = w.reconcile_once();
  CHECK_FALSE(has_action(plan, "apply Secret ns/demo-ca"));
  w.apply(plan);
  const auto& d = w.observed.secrets.at("demo-member-tls").data;
  CHECK(pki::verify_signed_by(d.at("demo-0.server.crt"), ca->certificate_pem, w.now).ok());

  SUBCASE("a Secret that is not a CA is refused with a clear message") {
    auto leaf = pki::issue_leaf(*ca, pki::LeafRequest{"x", {"x"}, {}, true, true, 24h}, kNow);
    w.observed.secrets["corp-ca"].data = {{"tls.crt", leaf->certificate_pem},
                                          {"tls.key", leaf->private_key_pem}};
    Plan refused = w.reconcile_once();
    CHECK(has_action(refused, "event Warning TLSSecretInvalid"));
    CHECK_FALSE(has_action(refused, "apply"));
  }
}
