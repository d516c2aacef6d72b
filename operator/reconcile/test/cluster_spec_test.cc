// Spec defaults and rules (mirroring the CRD's CEL), commit quorum and fault-tolerance math.
#include "etsecd/reconcile/cluster_spec.h"

#include <doctest/doctest.h>

#include "etsecd/reconcile/manifests.h"
#include "etsecd/reconcile/names.h"
#include "etsecd/reconcile/observed_state.h"

using namespace etsecd::reconcile;
using nlohmann::json;

namespace {
std::string error_of(const json& spec) {
  auto r = parse_cluster_spec(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "spec.invalid");
  return r.error().message;
}
}  // namespace

TEST_CASE("defaults match the CRD") {
  auto s = parse_cluster_spec(json::object());
  REQUIRE(s.ok());
  CHECK(s->replicas == 5);
  CHECK(s->threshold == 3);
  CHECK_FALSE(s->commit_quorum.has_value());
  CHECK(s->storage_size == "10Gi");
  CHECK(s->zone_topology_key == "topology.kubernetes.io/zone");
  CHECK(s->zone_spread_required);
  CHECK(s->existing_ca_secret.empty());
}

TEST_CASE("the CEL rules, checked again with the same messages") {
  CHECK(error_of({{"threshold", 1}}).find("threshold must be at least 2") == 0);
  CHECK(error_of({{"replicas", 300}, {"threshold", 3}}).find("replicas must be at most 255") == 0);
  CHECK(error_of({{"replicas", 1LL << 40}}).find("replicas must be at most 255") == 0);
  CHECK(error_of({{"replicas", 3}, {"threshold", 4}}).find("threshold must not exceed replicas") == 0);
  CHECK(error_of({{"replicas", 5}, {"threshold", 2}, {"commitQuorum", 2}}) ==
        "commitQuorum must be between max(floor(replicas/2)+1, threshold) and replicas");
  CHECK(error_of({{"replicas", 5}, {"threshold", 4}, {"commitQuorum", 3}}).find("commitQuorum") == 0);
  CHECK(error_of({{"replicas", 5}, {"commitQuorum", 6}}).find("commitQuorum") == 0);
  CHECK(error_of({{"replicas", "five"}}) == "spec.replicas must be an integer");
  CHECK(error_of({{"tolerations", "x"}}) == "spec.tolerations must be a list");
  CHECK(parse_cluster_spec({{"replicas", 255}, {"threshold", 2}}).ok());
  CHECK(parse_cluster_spec({{"replicas", 5}, {"threshold", 3}, {"commitQuorum", 5}}).ok());
  CHECK(parse_cluster_spec({{"replicas", 2}, {"threshold", 2}}).ok());
  auto storage = parse_cluster_spec({{"storage", {{"size", 1073741824}}}});
  REQUIRE(storage.ok());
  CHECK(storage->storage_size == "1073741824");
}

TEST_CASE("commit quorum: default ceil((n+k)/2), the member binary's default") {
  CHECK(default_commit_quorum(5, 3) == 4);
  CHECK(default_commit_quorum(5, 4) == 5);
  CHECK(default_commit_quorum(7, 3) == 5);
  CHECK(default_commit_quorum(4, 2) == 3);
  CHECK(default_commit_quorum(255, 200) == 228);
  ClusterSpec s;
  s.threshold = 3;
  s.commit_quorum = 5;
  CHECK(effective_commit_quorum(s, 5) == 5);
  CHECK(effective_commit_quorum(s, 4) == 4);  // 5 is not legal for 4 voters: the default applies
}

TEST_CASE("fault tolerance: writes n-W, reads after commit W-k, reads fully replicated n-k") {
  auto ft = fault_tolerance(5, 3, 3);
  CHECK(ft.writes == 2);
  CHECK(ft.reads_after_commit == 0);
  CHECK(ft.reads_fully_replicated == 2);
  ft = fault_tolerance(7, 5, 3);
  CHECK(ft.writes == 2);
  CHECK(ft.reads_after_commit == 2);
  CHECK(ft.reads_fully_replicated == 4);
}

TEST_CASE("names and member IDs") {
  ClusterNames n("demo", "ns", "cluster.local");
  CHECK(n.ordinal_of("demo-12") == 12);
  CHECK_FALSE(n.ordinal_of("demo-01"));
  CHECK_FALSE(n.ordinal_of("demo-x"));
  CHECK_FALSE(n.ordinal_of("other-1"));
  CHECK_FALSE(n.ordinal_of("demo-"));
  CHECK(n.member_pvc(3) == "data-demo-3");
  CHECK(n.peer_url(2) == "https://demo-2.demo-peer.ns.svc.cluster.local:2380");
  CHECK(member_id_to_string(0x8e9e05c52164694dULL) == "8e9e05c52164694d");
  CHECK(member_id_from_string("8e9e05c52164694d") == 0x8e9e05c52164694dULL);
  CHECK_FALSE(member_id_from_string("0x12"));
  CHECK_FALSE(member_id_from_string(" 12"));
  CHECK_FALSE(member_id_from_string(""));
}

TEST_CASE("observe_* read the API server's JSON") {
  json pod = {{"metadata",
               {{"name", "demo-1"},
                {"labels", {{"controller-revision-hash", "demo-abc"}}},
                {"annotations", {{"etsecd.io/version", "0.1.0"}}}}},
              {"spec", {{"nodeName", "n1"}}},
              {"status",
               {{"phase", "Running"},
                {"podIP", "127.0.1.2"},
                {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  ObservedPod p = observe_pod(pod);
  CHECK(p.name == "demo-1");
  CHECK(p.ready);
  CHECK(p.node_name == "n1");
  CHECK(p.revision == "demo-abc");
  CHECK(p.version == "0.1.0");
  CHECK(p.ip == "127.0.1.2");
  CHECK_FALSE(p.deleting);

  json secret = {{"metadata",
                  {{"name", "s"}, {"ownerReferences", json::array({{{"uid", "u1"}, {"controller", true}}})}}},
                 {"data", {{"a", "aGVsbG8="}, {"b", "!!"}, {"c", "aGk="}}}};
  ObservedSecret s = observe_secret(secret);
  CHECK(s.controller_uid == "u1");
  CHECK(s.data.at("a") == "hello");
  CHECK(s.data.at("c") == "hi");
  CHECK(s.data.count("b") == 0);

  json node = {{"metadata", {{"name", "n1"}, {"labels", {{"topology.kubernetes.io/zone", "a"}}}}},
               {"spec", {{"unschedulable", true}}}};
  ObservedNode nd = observe_node(node);
  CHECK(nd.labels.at("topology.kubernetes.io/zone") == "a");
  CHECK(nd.unschedulable);
}

TEST_CASE("Secret data survives base64 for every padding length and arbitrary bytes") {
  ClusterNames n("demo", "ns", "cluster.local");
  std::map<std::string, std::string> data;
  for (int len = 0; len < 7; ++len) {
    std::string bytes;
    for (int i = 0; i < len; ++i) bytes += static_cast<char>(0xff - i * 37);
    data["k" + std::to_string(len)] = bytes;
  }
  json manifest = secret_manifest(n, Owner{"demo", "ns", "u"}, "s", data);
  CHECK(manifest["data"]["k1"] == "/w==");
  CHECK(manifest["data"]["k3"] == "/9q1");
  ObservedSecret back = observe_secret(manifest);
  CHECK(back.data == data);
  CHECK(back.controller_uid == "u");
}
