// The desired manifests: placement, probes, security context, flags, PDB.
#include "etsecd/reconcile/manifests.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "test_world.h"

using namespace etsecd::reconcile;
using namespace etsecd::reconcile::testing;
using nlohmann::json;

namespace {

json first_statefulset(json extra_spec = json::object()) {
  World w(cluster_object(5, 3, std::move(extra_spec)));
  Plan plan = w.reconcile_once();
  const json* sts = applied(plan, "StatefulSet");
  REQUIRE(sts);
  return *sts;
}

bool has_arg(const json& container, const std::string& arg) {
  const auto& args = container["args"];
  return std::find(args.begin(), args.end(), json(arg)) != args.end();
}

}  // namespace

TEST_CASE("StatefulSet: OnDelete, Parallel, retained volumes, replicas, claim template") {
  json sts = first_statefulset({{"storage", {{"size", "20Gi"}, {"storageClassName", "fast"}}}});
  const json& spec = sts["spec"];
  CHECK(spec["replicas"] == 5);
  CHECK(spec["updateStrategy"]["type"] == "OnDelete");
  CHECK(spec["podManagementPolicy"] == "Parallel");
  CHECK(spec["serviceName"] == "demo-peer");
  CHECK(spec["persistentVolumeClaimRetentionPolicy"] ==
        json{{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}});
  const json& claim = spec["volumeClaimTemplates"][0];
  CHECK(claim["metadata"]["name"] == "data");
  CHECK(claim["spec"]["resources"]["requests"]["storage"] == "20Gi");
  CHECK(claim["spec"]["storageClassName"] == "fast");
  CHECK(sts["metadata"]["annotations"]["etsecd.io/bootstrap-members"] == "5");
  CHECK(sts["metadata"]["annotations"].contains("etsecd.io/desired-hash"));
}

TEST_CASE("pods: required anti-affinity per node and zone spread") {
  json pod = first_statefulset()["spec"]["template"]["spec"];
  const json& anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
  REQUIRE(anti.size() == 1);
  CHECK(anti[0]["topologyKey"] == "kubernetes.io/hostname");
  CHECK(anti[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "demo");
  const json& spread = pod["topologySpreadConstraints"][0];
  CHECK(spread["maxSkew"] == 1);
  CHECK(spread["topologyKey"] == "topology.kubernetes.io/zone");
  CHECK(spread["whenUnsatisfiable"] == "DoNotSchedule");

  json relaxed = first_statefulset({{"zoneSpreadRequired", false}, {"zoneTopologyKey", "example.com/rack"}});
  const json& relaxed_spread = relaxed["spec"]["template"]["spec"]["topologySpreadConstraints"][0];
  CHECK(relaxed_spread["whenUnsatisfiable"] == "ScheduleAnyway");
  CHECK(relaxed_spread["topologyKey"] == "example.com/rack");
}

TEST_CASE("pods: readiness on /readyz of the metrics port and a restricted security context") {
  json pod = first_statefulset()["spec"]["template"]["spec"];
  const json& c = pod["containers"][0];
  CHECK(c["readinessProbe"]["httpGet"]["path"] == "/readyz");
  CHECK(c["readinessProbe"]["httpGet"]["port"] == "metrics");
  CHECK_FALSE(c.contains("livenessProbe"));
  auto port = [&](const char* name) {
    for (const json& p : c["ports"]) {
      if (p["name"] == name) return p["containerPort"].get<int>();
    }
    return 0;
  };
  CHECK(port("client") == 2379);
  CHECK(port("peer") == 2380);
  CHECK(port("metrics") == 2381);
  const json& sc = c["securityContext"];
  CHECK(sc["runAsNonRoot"] == true);
  CHECK(sc["readOnlyRootFilesystem"] == true);
  CHECK(sc["allowPrivilegeEscalation"] == false);
  CHECK(sc["capabilities"]["drop"] == json::array({"ALL"}));
  CHECK(sc["seccompProfile"]["type"] == "RuntimeDefault");
  CHECK(pod["securityContext"]["runAsNonRoot"] == true);
  CHECK(pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault");
  CHECK(pod["automountServiceAccountToken"] == false);
  CHECK(c["image"] == "etsecd/etsecd-node:0.1.0");
}

TEST_CASE("member flags: initial cluster in ordinal order (share index = position), TLS, k and W") {
  json c = first_statefulset()["spec"]["template"]["spec"]["containers"][0];
  const std::string host = ".demo-peer.ns.svc.cluster.local";
  std::string initial;
  for (int i = 0; i < 5; ++i) {
    initial += (i ? "," : "") + ("demo-" + std::to_string(i)) + "=https://demo-" + std::to_string(i) + host +
               ":2380";
  }
  CHECK(has_arg(c, "--initial-cluster=" + initial));
  CHECK(has_arg(c, "--initial-cluster-state=new"));
  CHECK(has_arg(c, "--initial-cluster-token=ns/demo/uid-1"));
  CHECK(has_arg(c, "--name=$(POD_NAME)"));
  CHECK(has_arg(c, "--threshold=3"));
  // No W unless the spec sets one: members use the default for their current voter count.
  for (const json& a : c["args"]) CHECK(a.get<std::string>().rfind("--commit-quorum", 0) != 0);
  CHECK(has_arg(c, "--client-cert-auth=true"));
  CHECK(has_arg(c, "--listen-peer-urls=https://$(POD_IP):2380"));
  CHECK(has_arg(c, "--listen-client-urls=https://$(POD_IP):2379"));
  CHECK(has_arg(c, "--listen-metrics-urls=http://$(POD_IP):2381"));
  CHECK(has_arg(c, "--initial-advertise-peer-urls=https://$(POD_NAME)" + host + ":2380"));
  CHECK(has_arg(c, "--advertise-client-urls=https://$(POD_NAME)" + host + ":2379"));
  CHECK(has_arg(c, "--peer-cert-file=/etc/etsecd/tls/$(POD_NAME).peer.crt"));
  CHECK(has_arg(c, "--peer-trusted-ca-file=/etc/etsecd/tls/ca.crt"));
  CHECK(has_arg(c, "--cert-file=/etc/etsecd/tls/$(POD_NAME).server.crt"));
  // Every $(VAR) the args use is defined in the container's env, or the kubelet leaves it unexpanded.
  std::vector<std::string> env;
  for (const json& e : c["env"]) env.push_back(e["name"]);
  for (const char* var : {"POD_NAME", "POD_IP"}) CHECK(std::find(env.begin(), env.end(), var) != env.end());

  json explicit_w = first_statefulset({{"commitQuorum", 4}})["spec"]["template"]["spec"]["containers"][0];
  CHECK(has_arg(explicit_w, "--commit-quorum=4"));
}

TEST_CASE("services and PDB") {
  World w(cluster_object(7, 3));
  Plan plan = w.reconcile_once();
  const json* peer = applied(plan, "Service", "demo-peer");
  REQUIRE(peer);
  CHECK((*peer)["spec"]["clusterIP"] == "None");
  CHECK((*peer)["spec"]["publishNotReadyAddresses"] == true);
  const json* client = applied(plan, "Service", "demo");
  REQUIRE(client);
  CHECK((*client)["spec"]["ports"][0]["port"] == 2379);
  CHECK_FALSE((*client)["spec"].contains("publishNotReadyAddresses"));
  const json* pdb = applied(plan, "PodDisruptionBudget");
  REQUIRE(pdb);
  CHECK((*pdb)["spec"]["minAvailable"] == 5);  // W = ceil((7+3)/2)
  CHECK((*pdb)["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "etsecd");
}

TEST_CASE("the desired hash ignores itself and changes with the manifest") {
  json m = {{"kind", "Service"}, {"metadata", {{"name", "x"}}}, {"spec", {{"a", 1}}}};
  json hashed = with_desired_hash(m);
  CHECK(manifest_hash(hashed) == manifest_hash(m));
  m["spec"]["a"] = 2;
  CHECK(manifest_hash(m) != manifest_hash(hashed));
}
