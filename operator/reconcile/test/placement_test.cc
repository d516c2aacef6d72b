// ZoneLeakRisk: one zone or one node holding k or more members.
#include <doctest/doctest.h>

#include "test_world.h"

using namespace etsecd::reconcile;
using namespace etsecd::reconcile::testing;
using nlohmann::json;

TEST_CASE("5 members over two zones with threshold 3 leak a zone") {
  World w(cluster_object(5, 3));
  w.zones = {"zone-a", "zone-b"};
  w.set_nodes(6);
  w.apply(w.reconcile_once());
  w.run_statefulset_pods();
  Plan plan = w.reconcile_once();
  CHECK(has_action(plan, "event Warning ZoneHoldsThreshold: zone zone-a holds 3 of 5 members (threshold 3)"));
  w.apply(plan);
  w.form_cluster();
  w.converge();
  const json* leak = condition(w.status(), "ZoneLeakRisk");
  REQUIRE(leak);
  CHECK(leak->at("status") == "True");
  CHECK(leak->at("reason") == "ZoneHoldsThreshold");
  Plan again = w.reconcile_once();
  CHECK(again.actions.empty());  // reported once, not on every pass
}

TEST_CASE("three zones keep every zone below the threshold") {
  World w(cluster_object(5, 3));
  w.converge();
  w.form_cluster();
  w.converge();
  CHECK(condition(w.status(), "ZoneLeakRisk")->at("status") == "False");
}

TEST_CASE("threshold 2 over three zones: two members in one zone is already a leak") {
  World w(cluster_object(5, 2));
  w.converge();
  w.form_cluster();
  w.converge();
  CHECK(condition(w.status(), "ZoneLeakRisk")->at("status") == "True");
}

TEST_CASE("one node holding k members is a leak even across zones") {
  World w(cluster_object(5, 3));
  w.converge();
  for (int i : {0, 1, 2}) w.pod("demo-" + std::to_string(i))->node_name = "node-0";
  w.pod("demo-1")->zone = "zone-x";  // reported zone wins over the node's label
  w.pod("demo-2")->zone = "zone-y";
  w.form_cluster();
  Plan plan = w.reconcile_once();
  w.apply(plan);
  const json* leak = condition(w.status(), "ZoneLeakRisk");
  CHECK(leak->at("status") == "True");
  CHECK(leak->at("reason") == "NodeHoldsThreshold");
}

TEST_CASE("a leak that ends is reported as resolved") {
  World w(cluster_object(5, 3));
  w.zones = {"zone-a", "zone-b"};
  w.set_nodes(6);
  w.converge();
  w.form_cluster();
  w.converge();
  w.zones = {"zone-a", "zone-b", "zone-c"};
  w.set_nodes(6);
  Plan plan = w.reconcile_once();
  CHECK(has_action(plan, "event Normal ZoneLeakRiskResolved"));
}

TEST_CASE("fewer schedulable nodes than members is reported") {
  World w(cluster_object(5, 3));
  w.set_nodes(4);
  w.apply(w.reconcile_once());
  CHECK(condition(w.status(), "Degraded")->at("reason") == "InsufficientNodes");
}
