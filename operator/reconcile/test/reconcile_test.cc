// The reconciler driven through whole scenarios: creation, idempotence, the priority rules, the
// readiness gate, scaling, upgrades, volume safety, status rebuild and typed requeues.
#include <doctest/doctest.h>

#include <algorithm>

#include "etsecd/reconcile/names.h"
#include "test_world.h"

using namespace etsecd::reconcile;
using namespace etsecd::reconcile::testing;
using nlohmann::json;

namespace {

// A formed, Running 5-member threshold-3 cluster.
World running_cluster(int replicas = 5, int threshold = 3) {
  World w(cluster_object(replicas, threshold));
  REQUIRE(w.converge() > 0);
  w.form_cluster();
  REQUIRE(w.converge() > 0);
  REQUIRE(w.status()["phase"] == "Running");
  return w;
}

void bump_spec(World& w, const char* field, json value) {
  w.observed.cluster["spec"][field] = std::move(value);
  w.observed.cluster["metadata"]["generation"] = w.observed.cluster["metadata"]["generation"].get<int>() + 1;
}

// Runs passes until steady, recording each pass's cluster change; fails on two changes in one pass.
std::vector<std::string> drive(World& w, int limit = 40) {
  std::vector<std::string> changes;
  for (int i = 0; i < limit; ++i) {
    Plan plan = w.reconcile_once();
    REQUIRE_MESSAGE(count_cluster_changes(plan) <= 1, "two cluster changes in one pass");
    if (plan.actions.empty()) return changes;
    for (const Action& a : plan.actions) {
      if (!std::holds_alternative<ApplyObject>(a) && !std::holds_alternative<UpdateStatus>(a) &&
          !std::holds_alternative<EmitEvent>(a)) {
        changes.push_back(describe(a));
      }
    }
    w.apply(plan);
    w.run_statefulset_pods();
  }
  FAIL("did not converge");
  return changes;
}

}  // namespace

TEST_CASE("a new cluster gets its objects, no cluster change, and waits for the members") {
  World w(cluster_object(5, 3));
  Plan plan = w.reconcile_once();
  for (const char* kind_name :
       {"Secret demo-ca", "Secret demo-member-tls", "Secret demo-client-tls", "Service demo-peer",
        "Service demo", "StatefulSet demo", "PodDisruptionBudget demo"}) {
    std::string s = kind_name;
    CHECK_MESSAGE(applied(plan, s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)) != nullptr, s);
  }
  CHECK(count_cluster_changes(plan) == 0);
  CHECK(plan.requeue.reason == RequeueReason::NotReady);
  REQUIRE(std::holds_alternative<UpdateStatus>(plan.actions.back()));
  const json& status = std::get<UpdateStatus>(plan.actions.back()).status;
  CHECK(status["phase"] == "Creating");
  CHECK(status["bootstrapMembers"] == 5);
  CHECK(status["observedGeneration"] == 1);
  CHECK(status["selector"] == "app.kubernetes.io/instance=demo,app.kubernetes.io/name=etsecd");
  // Every manifest is owned by the cluster, so deleting it garbage-collects everything.
  for (const Action& a : plan.actions) {
    if (auto* apply = std::get_if<ApplyObject>(&a)) {
      CHECK(apply->manifest["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
      CHECK(apply->manifest["metadata"]["ownerReferences"][0]["controller"] == true);
      CHECK(apply->manifest["metadata"]["labels"]["app.kubernetes.io/instance"] == "demo");
    }
  }
}

TEST_CASE("reconciling the result of a plan yields no new actions") {
  World w(cluster_object(5, 3));
  w.apply(w.reconcile_once());
  w.run_statefulset_pods();
  w.apply(w.reconcile_once());
  Plan again = w.reconcile_once();
  CHECK_MESSAGE(again.actions.empty(), describe_all(again).size());

  w.form_cluster();
  w.apply(w.reconcile_once());
  Plan steady = w.reconcile_once();
  CHECK(steady.actions.empty());
  CHECK(steady.requeue.reason == RequeueReason::Steady);
  REQUIRE(steady.requeue.after);
  CHECK(*steady.requeue.after == std::chrono::seconds(300));
  CHECK(w.status()["phase"] == "Running");
}

TEST_CASE("status: members, leader, share indexes, commit quorum and fault tolerance") {
  World w = running_cluster(5, 3);
  const json& s = w.status();
  CHECK(s["replicas"] == 5);
  CHECK(s["readyReplicas"] == 5);
  CHECK(s["leader"] == "demo-0");
  CHECK(s["threshold"] == 3);
  CHECK(s["commitQuorum"] == 4);
  CHECK(s["faultTolerance"] == json{{"writes", 1}, {"readsAfterCommit", 1}, {"readsFullyReplicated", 2}});
  REQUIRE(s["members"].size() == 5);
  for (int i = 0; i < 5; ++i) {
    const json& m = s["members"][std::size_t(i)];
    CHECK(m["name"] == "demo-" + std::to_string(i));
    CHECK(m["shareIndex"] == i + 1);
    CHECK(m["role"] == (i == 0 ? "leader" : "follower"));
    CHECK(m["ready"] == true);
    CHECK(m["node"] == "node-" + std::to_string(i));
    CHECK(m["zone"] == w.zones[std::size_t(i) % 3]);
    CHECK(m["version"] == "0.1.0");
    CHECK(m.contains("memberID"));
  }
  CHECK(condition(s, "Available")->at("status") == "True");
  CHECK(condition(s, "Progressing")->at("status") == "False");
  CHECK(condition(s, "Degraded")->at("status") == "False");
  CHECK(condition(s, "ZoneLeakRisk")->at("status") == "False");
}

TEST_CASE("a lost status is rebuilt from the cluster's member list") {
  World w = running_cluster();
  json before = w.status();
  w.observed.cluster.erase("status");
  Plan plan = w.reconcile_once();
  REQUIRE(std::holds_alternative<UpdateStatus>(plan.actions.back()));
  const json& rebuilt = std::get<UpdateStatus>(plan.actions.back()).status;
  CHECK(rebuilt["members"] == before["members"]);
  CHECK(rebuilt["bootstrapMembers"] == 5);  // from the StatefulSet annotation
  CHECK(rebuilt["leader"] == "demo-0");
  CHECK(count_cluster_changes(plan) == 0);
  CHECK_FALSE(has_action(plan, "apply StatefulSet"));
}

TEST_CASE("without the member list nothing changes and the status keeps member identities") {
  World w = running_cluster();
  bump_spec(w, "replicas", 6);
  w.observed.member_list = ObservedMemberList{false, "connection refused", 0, {}};
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 0);
  CHECK(plan.requeue.reason == RequeueReason::MemberApiUnavailable);
  REQUIRE(std::holds_alternative<UpdateStatus>(plan.actions.back()));
  const json& s = std::get<UpdateStatus>(plan.actions.back()).status;
  CHECK(s["phase"] == "Degraded");
  CHECK(condition(s, "Degraded")->at("reason") == "MemberListUnavailable");
  CHECK(s["members"][0]["memberID"] == w.status()["members"][0]["memberID"]);
  CHECK(s["members"][2]["shareIndex"] == 3);
}

TEST_CASE("hand edits of the fields that matter are reverted") {
  World w = running_cluster();
  (*w.observed.statefulset)["spec"]["replicas"] = 2;
  Plan plan = w.reconcile_once();
  const json* sts = applied(plan, "StatefulSet");
  REQUIRE(sts);
  CHECK((*sts)["spec"]["replicas"] == 5);
  w.apply(plan);
  (*w.observed.pod_disruption_budget)["spec"]["minAvailable"] = 0;
  CHECK(applied(w.reconcile_once(), "PodDisruptionBudget") != nullptr);
}

TEST_CASE("a lost status while the member list is unreadable never shrinks the StatefulSet") {
  World w = running_cluster();
  bump_spec(w, "replicas", 7);
  drive(w);
  REQUIRE((*w.observed.statefulset)["spec"]["replicas"] == 7);
  w.observed.cluster.erase("status");
  w.observed.member_list = ObservedMemberList{false, "timeout", 0, {}};
  Plan plan = w.reconcile_once();
  CHECK_FALSE(has_action(plan, "apply StatefulSet"));
  CHECK(count_cluster_changes(plan) == 0);
  CHECK(plan.requeue.reason == RequeueReason::NotReady);
}

TEST_CASE("readiness gate: no orchestration while a member is not Ready") {
  World w = running_cluster();
  w.pod("demo-2")->ready = false;
  bump_spec(w, "replicas", 6);
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 0);
  CHECK(plan.requeue.reason == RequeueReason::NotReady);
  REQUIRE(plan.requeue.after);
  CHECK(*plan.requeue.after <= std::chrono::seconds(10));
  const json& s = std::get<UpdateStatus>(plan.actions.back()).status;
  CHECK(s["phase"] == "Degraded");
  CHECK(condition(s, "Degraded")->at("reason") == "MembersNotReady");
  CHECK(has_action(plan, "event Warning MembersNotReady"));
}

TEST_CASE("repair of the unready member itself passes the gate") {
  World w = running_cluster();
  bump_spec(w, "version", "0.2.0");
  w.apply(w.reconcile_once());  // the StatefulSet takes the new template
  w.pod("demo-3")->ready = false;
  w.pod("demo-3")->uid = "pod-uid-3";
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 1);
  CHECK(has_action(plan, "delete Pod ns/demo-3"));
  for (const Action& a : plan.actions) {
    if (auto* d = std::get_if<DeleteObject>(&a)) CHECK(d->object.uid == "pod-uid-3");  // delete precondition
  }
}

TEST_CASE("a member list without any of our members changes nothing") {
  World w = running_cluster();
  w.observed.member_list.members = {
      ObservedMember{0x99, "stranger", {"https://elsewhere:2380"}, {}, false, {}}};
  w.observed.member_list.leader_id = 0x99;
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 0);
  CHECK_FALSE(has_action(plan, "apply StatefulSet"));
  CHECK(plan.requeue.reason == RequeueReason::MemberApiUnavailable);
}

TEST_CASE("upgrade restarts one member per pass, followers first, the leader last after a leader move") {
  World w = running_cluster();
  bump_spec(w, "version", "0.2.0");
  std::vector<std::string> changes = drive(w);
  std::vector<std::string> expected = {"delete Pod ns/demo-4",  "delete Pod ns/demo-3",
                                       "delete Pod ns/demo-2",  "delete Pod ns/demo-1",
                                       "move-leader to demo-1", "delete Pod ns/demo-0"};
  REQUIRE(changes.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(changes[i].rfind(expected[i], 0) == 0);
  CHECK(w.status()["version"] == "0.2.0");
  CHECK(w.status()["phase"] == "Running");
}

TEST_CASE("scale up adds one learner at a time and promotes it once Ready") {
  World w = running_cluster();
  bump_spec(w, "replicas", 7);
  std::vector<std::string> changes = drive(w);
  std::vector<std::string> expected = {"add-learner demo-5", "promote demo-5", "add-learner demo-6",
                                       "promote demo-6"};
  REQUIRE(changes.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(changes[i].rfind(expected[i], 0) == 0);
  const json& s = w.status();
  CHECK(s["replicas"] == 7);
  CHECK(s["commitQuorum"] == 5);
  CHECK(s["members"][5]["shareIndex"] == 6);
  CHECK(s["members"][6]["shareIndex"] == 7);
  CHECK((*w.observed.statefulset)["spec"]["replicas"] == 7);
  CHECK(w.observed.pod_disruption_budget->at("spec").at("minAvailable") == 5);
  // Scaling never changes the pod template, so no member restarts.
  for (const std::string& c : changes) CHECK(c.find("delete Pod") == std::string::npos);
}

TEST_CASE("a learner that is not Ready yet is waited for, not promoted") {
  World w = running_cluster();
  bump_spec(w, "replicas", 6);
  w.apply(w.reconcile_once());    // add-learner demo-5
  w.apply(w.reconcile_once());    // StatefulSet grows to 6
  w.run_statefulset_pods(false);  // demo-5 starts but is still catching up
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 0);
  CHECK(plan.requeue.reason == RequeueReason::NotReady);
  CHECK(std::get<UpdateStatus>(plan.actions.back()).status["phase"] == "ScalingUp");
}

TEST_CASE("a joined learner's pod is created by the StatefulSet and named by the starting member") {
  World w = running_cluster(3, 2);
  bump_spec(w, "replicas", 4);
  Plan plan = w.reconcile_once();
  REQUIRE(has_action(plan, "add-learner demo-3"));
  CHECK((*w.observed.statefulset)["spec"]["replicas"] == 3);  // no pod before the cluster knows it
  w.apply(plan);
  w.apply(w.reconcile_once());
  CHECK((*w.observed.statefulset)["spec"]["replicas"] == 4);
  // Its pod runs with the same --initial-cluster as the bootstrap members (the member joins because its
  // name is not in it): no per-pod arguments.
  const json& args = (*w.observed.statefulset)["spec"]["template"]["spec"]["containers"][0]["args"];
  CHECK(std::find(args.begin(), args.end(), json("--initial-cluster-state=new")) != args.end());
}

namespace {

// The pod of `name` reports what etsecd-node does when its volume was lost: not Ready, exit status 3.
void lose_volume(World& w, const std::string& name) {
  ObservedPod* pod = w.pod(name);
  REQUIRE(pod);
  pod->ready = false;
  pod->running = false;
  pod->exit_code = kMemberDataLostExitCode;
}

std::uint64_t id_of(const World& w, const std::string& name) {
  for (const ObservedMember& m : w.observed.member_list.members) {
    if (m.name == name) return m.id;
  }
  FAIL("no member " << name);
  return 0;
}

}  // namespace

TEST_CASE("a member whose volume was lost is removed, added again as a learner and promoted") {
  for (const std::string victim : {"demo-2", "demo-4"}) {  // demo-4: the highest ordinal
    CAPTURE(victim);
    World w = running_cluster();
    const std::uint64_t old_id = id_of(w, victim);
    lose_volume(w, victim);

    Plan remove = w.reconcile_once();
    CHECK(count_cluster_changes(remove) == 1);
    CHECK(has_action(remove, "remove-member " + victim));
    CHECK(has_action(remove, "event Warning MemberDataLost"));
    CHECK(std::get<UpdateStatus>(remove.actions.back()).status["phase"] == "Degraded");
    w.apply(remove);
    w.run_statefulset_pods(false);
    REQUIRE(w.pod(victim));  // the StatefulSet keeps the pod: its exit code is the record of the loss

    Plan add = w.reconcile_once();
    CHECK(count_cluster_changes(add) == 1);
    CHECK(has_action(add, "add-learner " + victim));
    CHECK((*w.observed.statefulset)["spec"]["replicas"] == 5);
    w.apply(add);
    // The re-added learner's pod still shows the old exit code until it restarts: not removed again.
    Plan waiting = w.reconcile_once();
    CHECK(count_cluster_changes(waiting) == 0);
    CHECK(waiting.requeue.reason == RequeueReason::NotReady);
    w.apply(waiting);

    // The pod restarts, joins under the new index and is repaired: Ready, then promoted.
    ObservedPod* pod = w.pod(victim);
    pod->ready = true;
    pod->running = true;
    for (ObservedMember& m : w.observed.member_list.members) {
      if (m.name.empty()) m.name = victim;
    }
    std::vector<std::string> changes = drive(w);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].rfind("promote " + victim, 0) == 0);
    CHECK(id_of(w, victim) != old_id);
    CHECK(w.status()["phase"] == "Running");
    for (const json& m : w.status()["members"]) {
      if (m["name"] == victim) CHECK(m["shareIndex"] == 6);  // a fresh index from the cluster
    }
    CHECK(w.observed.pvcs.size() == 5);
  }
}

TEST_CASE("a lost volume is not replaced beyond spec.replicas, and other failures are not replacements") {
  World w = running_cluster();
  SUBCASE("another exit code is an ordinary unready member") {
    lose_volume(w, "demo-1");
    w.pod("demo-1")->exit_code = 1;
    Plan plan = w.reconcile_once();
    CHECK(count_cluster_changes(plan) == 0);
    CHECK(plan.requeue.reason == RequeueReason::NotReady);
  }
  SUBCASE("a learner is never removed for it") {
    bump_spec(w, "replicas", 6);
    w.apply(w.reconcile_once());  // add-learner demo-5
    w.apply(w.reconcile_once());
    w.run_statefulset_pods(false);
    lose_volume(w, "demo-5");
    Plan plan = w.reconcile_once();
    CHECK(count_cluster_changes(plan) == 0);
  }
  SUBCASE("a removed member beyond spec.replicas is not added again") {
    lose_volume(w, "demo-4");
    w.apply(w.reconcile_once());  // remove-member demo-4
    bump_spec(w, "replicas", 4);
    Plan plan = w.reconcile_once();
    CHECK_FALSE(has_action(plan, "add-learner"));
    CHECK((*w.observed.statefulset)["spec"]["replicas"] == 5);
    w.apply(plan);
    CHECK((*w.observed.statefulset)["spec"]["replicas"] == 4);
  }
}

TEST_CASE("an added member's share index comes from its id when the member list does not report it") {
  World w = running_cluster();
  // What etsecd-node derives for demo-5 added with share index 6 (test vector computed independently:
  // SHA-256 of "added-member\0<peer URL>\0<token>\0" "6", first 8 bytes big-endian).
  const std::string url = "https://demo-5.demo-peer.ns.svc.cluster.local:2380";
  REQUIRE(ClusterNames("demo", "ns", "cluster.local").peer_url(5) == url);
  w.observed.member_list.members.push_back(ObservedMember{0x1c7d3d58e61ea145, "demo-5", {url}, {}, true, {}});
  w.apply(w.reconcile_once());
  const json& members = w.status()["members"];
  REQUIRE(members.size() == 6);
  CHECK(members[5]["name"] == "demo-5");
  CHECK(members[5]["shareIndex"] == 6);
  // Another id on that URL (index 7's) gives 7; an id no index produces gives none.
  w.observed.member_list.members.back().id = 0xd7cdf4b2b61084ae;
  w.apply(w.reconcile_once());
  CHECK(w.status()["members"][5]["shareIndex"] == 7);
  w.observed.member_list.members.back().id = 0x1234;
  w.apply(w.reconcile_once());
  CHECK_FALSE(w.status()["members"][5].contains("shareIndex"));
}

TEST_CASE("scale down removes members one at a time and keeps their volumes") {
  World w = running_cluster();
  bump_spec(w, "replicas", 3);
  std::vector<std::string> changes = drive(w);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].rfind("remove-member demo-4", 0) == 0);
  CHECK(changes[1].rfind("remove-member demo-3", 0) == 0);
  CHECK((*w.observed.statefulset)["spec"]["replicas"] == 3);
  CHECK(w.observed.pvcs.size() == 5);  // shares are never deleted without the cluster's confirmation
  CHECK(w.status()["faultTolerance"] ==
        json{{"writes", 0}, {"readsAfterCommit", 0}, {"readsFullyReplicated", 0}});
  // The removed members' keys are gone from the member Secret.
  CHECK(w.observed.secrets["demo-member-tls"].data.count("demo-4.peer.key") == 0);
  CHECK(w.observed.secrets["demo-member-tls"].data.count("demo-2.peer.key") == 1);

  SUBCASE("a volume goes only once the cluster confirms its shares are redundant") {
    w.observed.share_redundancy_confirmed.insert("demo-4");
    changes = drive(w);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].rfind("delete PersistentVolumeClaim ns/data-demo-4", 0) == 0);
    CHECK(w.observed.pvcs.size() == 4);
  }
  SUBCASE("a removed member's old volume blocks re-adding that ordinal") {
    bump_spec(w, "replicas", 4);
    Plan plan = w.reconcile_once();
    CHECK(count_cluster_changes(plan) == 0);
    CHECK(plan.requeue.reason == RequeueReason::MissingDependency);
    const json& s = std::get<UpdateStatus>(plan.actions.back()).status;
    CHECK(condition(s, "Progressing")->at("reason") == "StaleVolume");
  }
}

TEST_CASE("removing the leader first moves leadership away") {
  World w = running_cluster();
  w.observed.member_list.leader_id = w.observed.member_list.members[4].id;
  w.apply(w.reconcile_once());
  bump_spec(w, "replicas", 4);
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 1);
  CHECK(has_action(plan, "move-leader to demo-0"));
  w.apply(plan);
  plan = w.reconcile_once();
  CHECK(has_action(plan, "remove-member demo-4"));
}

TEST_CASE("an invalid spec that bypassed admission stops everything until the spec changes") {
  json cluster = cluster_object(5, 1);
  World w(cluster);
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 0);
  CHECK_FALSE(has_action(plan, "apply"));
  CHECK(has_action(plan, "event Warning InvalidSpec: threshold must be at least 2"));
  CHECK(plan.requeue.reason == RequeueReason::InvalidSpec);
  CHECK_FALSE(plan.requeue.after.has_value());
  w.apply(plan);
  CHECK(w.status()["phase"] == "Invalid");
  CHECK(w.reconcile_once().actions.empty());
}

TEST_CASE("changing the threshold of a running cluster is refused and nothing is touched") {
  World w = running_cluster();
  bump_spec(w, "threshold", 4);
  Plan plan = w.reconcile_once();
  CHECK(count_cluster_changes(plan) == 0);
  CHECK_FALSE(has_action(plan, "apply"));
  const json& s = std::get<UpdateStatus>(plan.actions.back()).status;
  CHECK(s["phase"] == "Invalid");
  CHECK(condition(s, "Degraded")->at("message").get<std::string>().find("threshold is immutable") == 0);
  CHECK(s["members"].size() == 5);  // the last known picture stays
}

TEST_CASE("a missing TLS Secret is reported and retried") {
  World w(cluster_object(5, 3, {{"tls", {{"existingCASecret", "my-ca"}}}}));
  Plan plan = w.reconcile_once();
  CHECK_FALSE(has_action(plan, "apply"));
  CHECK(has_action(plan, "event Warning TLSSecretMissing: spec.tls.existingCASecret names Secret ns/my-ca"));
  CHECK(plan.requeue.reason == RequeueReason::MissingDependency);
  CHECK(plan.requeue.after == std::chrono::seconds(30));
}

TEST_CASE("no node carries the zone label: condition and Event, objects still created") {
  World w(cluster_object(5, 3));
  for (ObservedNode& n : *w.observed.nodes) n.labels.erase("topology.kubernetes.io/zone");
  Plan plan = w.reconcile_once();
  CHECK(has_action(plan, "event Warning NoZones"));
  CHECK(applied(plan, "StatefulSet") != nullptr);
  w.apply(plan);
  CHECK(condition(w.status(), "Degraded")->at("reason") == "NoZones");
  CHECK(w.reconcile_once().actions.empty());  // the Event is not repeated
}

TEST_CASE("an object of the same name that the cluster does not own is left alone") {
  World w(cluster_object(5, 3));
  w.observed.services["demo"] = json{{"metadata", {{"name", "demo"}, {"namespace", "ns"}}}};
  Plan plan = w.reconcile_once();
  CHECK(applied(plan, "Service", "demo") == nullptr);
  CHECK(has_action(plan, "event Warning NameConflict"));
}

TEST_CASE("a cluster being deleted gets no actions") {
  World w = running_cluster();
  w.observed.cluster["metadata"]["deletionTimestamp"] = "2027-01-01T00:00:00Z";
  Plan plan = w.reconcile_once();
  CHECK(plan.actions.empty());
  CHECK(plan.requeue.reason == RequeueReason::Deleting);
}
