// The parts of plan execution and observation that need no API server; the rest runs against a real
// control plane in operator_e2e.sh.
#include "plan_executor.h"

#include <doctest/doctest.h>

#include "controller.h"
#include "etsecd/reconcile/names.h"
#include "observe.h"

using namespace etsecd;
using namespace etsecd::operator_cmd;

TEST_CASE("resource_for maps every kind the reconciler writes") {
  CHECK(resource_for("v1", "Service")->plural == "services");
  CHECK(resource_for("apps/v1", "StatefulSet")->plural == "statefulsets");
  CHECK(resource_for("policy/v1", "PodDisruptionBudget")->plural == "poddisruptionbudgets");
  CHECK(resource_for("v1", "Secret")->plural == "secrets");
  CHECK(resource_for("v1", "Pod")->plural == "pods");
  CHECK(resource_for("v1", "PersistentVolumeClaim")->plural == "persistentvolumeclaims");
  auto bad = resource_for("apps/v1", "Deployment");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "operator.unsupported_kind");
  CHECK_FALSE(resource_for("policy/v1beta1", "PodDisruptionBudget").ok());
}

TEST_CASE("member endpoints are pod IPs checked against the members' DNS names") {
  reconcile::ObservedState s;
  s.cluster = {{"metadata", {{"name", "demo"}, {"namespace", "ns"}}}};
  s.config.cluster_domain = "cluster.local";
  reconcile::ObservedPod p0;
  p0.name = "demo-0";
  p0.ip = "127.2.0.5";
  reconcile::ObservedPod p1;
  p1.name = "demo-1";
  p1.ip = "fd00::7";
  reconcile::ObservedPod no_ip;
  no_ip.name = "demo-2";
  reconcile::ObservedPod leaving;
  leaving.name = "demo-3";
  leaving.ip = "127.2.0.9";
  leaving.deleting = true;
  reconcile::ObservedPod stranger;
  stranger.name = "other-0";
  stranger.ip = "127.2.0.10";
  s.pods = {p0, p1, no_ip, leaving, stranger};
  auto endpoints = member_endpoints(s);
  REQUIRE(endpoints.size() == 2);
  CHECK(endpoints[0].address == "127.2.0.5:2379");
  CHECK(endpoints[0].server_name == "demo-0.demo-peer.ns.svc.cluster.local");
  CHECK(endpoints[1].address == "[fd00::7]:2379");
  CHECK(endpoints[1].server_name == "demo-1.demo-peer.ns.svc.cluster.local");
}

TEST_CASE("the worker heartbeat turns /healthz red only while a pass is stuck") {
  WorkerHeartbeat hb;
  CHECK(hb.check(std::chrono::seconds(0)).ok());  // not running
  hb.beat();
  CHECK(hb.check(std::chrono::hours(1)).ok());
  auto stuck = hb.check(std::chrono::nanoseconds(-1));
  REQUIRE_FALSE(stuck.ok());
  CHECK(stuck.error().code == "operator.stalled");
  hb.stopped();
  CHECK(hb.check(std::chrono::nanoseconds(-1)).ok());
}
