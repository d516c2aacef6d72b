// The CRD and the Helm chart: the CRD is structural and carries the rules and columns users rely on;
// the chart ships the same CRD byte for byte and grants only what the operator uses.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "etsecd/reconcile/cluster_spec.h"
#include "test_world.h"

using etsecd::reconcile::parse_cluster_spec;

namespace {

std::string read(const std::string& relative) {
  std::ifstream in(std::string(ETSECD_SOURCE_DIR) + "/" + relative, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

YAML::Node crd() { return YAML::Load(read("crds/etsecd.io_etsecdclusters.yaml")); }

YAML::Node version_schema() { return crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

// Structural schema (apiextensions v1): every node states its type, except int-or-string nodes and
// nodes that preserve unknown fields, and the rule holds all the way down.
void check_structural(const YAML::Node& node, const std::string& path) {
  bool int_or_string = node["x-kubernetes-int-or-string"] && node["x-kubernetes-int-or-string"].as<bool>();
  bool preserve =
      node["x-kubernetes-preserve-unknown-fields"] && node["x-kubernetes-preserve-unknown-fields"].as<bool>();
  CHECK_MESSAGE((node["type"] || int_or_string || preserve), path << " has no type");
  if (node["properties"]) {
    for (const auto& p : node["properties"])
      check_structural(p.second, path + "." + p.first.as<std::string>());
  }
  if (node["items"]) check_structural(node["items"], path + "[]");
  if (node["additionalProperties"] && node["additionalProperties"].IsMap()) {
    check_structural(node["additionalProperties"], path + "{}");
  }
}

std::set<std::string> cel_messages(const YAML::Node& validations) {
  std::set<std::string> out;
  for (const auto& v : validations) out.insert(v["message"].as<std::string>());
  return out;
}

}  // namespace

TEST_CASE("CRD: group, names, scope, subresources and printer columns") {
  YAML::Node c = crd();
  CHECK(c["kind"].as<std::string>() == "CustomResourceDefinition");
  CHECK(c["metadata"]["name"].as<std::string>() == "etsecdclusters.etsecd.io");
  CHECK(c["spec"]["group"].as<std::string>() == "etsecd.io");
  CHECK(c["spec"]["scope"].as<std::string>() == "Namespaced");
  CHECK(c["spec"]["names"]["kind"].as<std::string>() == "EtsecdCluster");
  CHECK(c["spec"]["names"]["shortNames"][0].as<std::string>() == "esc");
  YAML::Node v = c["spec"]["versions"][0];
  CHECK(v["name"].as<std::string>() == "v1alpha1");
  CHECK(v["served"].as<bool>());
  CHECK(v["storage"].as<bool>());
  CHECK(v["subresources"]["status"].IsMap());
  CHECK(v["subresources"]["scale"]["specReplicasPath"].as<std::string>() == ".spec.replicas");
  CHECK(v["subresources"]["scale"]["statusReplicasPath"].as<std::string>() == ".status.replicas");
  CHECK(v["subresources"]["scale"]["labelSelectorPath"].as<std::string>() == ".status.selector");
  std::map<std::string, std::string> columns;
  for (const auto& col : v["additionalPrinterColumns"]) {
    columns[col["name"].as<std::string>()] = col["jsonPath"].as<std::string>();
  }
  CHECK(columns["Ready"] == ".status.readyReplicas");
  CHECK(columns["Threshold"] == ".spec.threshold");
  CHECK(columns["Commit Quorum"] == ".status.commitQuorum");
  CHECK(columns["Leader"] == ".status.leader");
  CHECK(columns["Version"] == ".status.version");
  CHECK(columns["Phase"] == ".status.phase");
  CHECK(columns["Age"] == ".metadata.creationTimestamp");
}

TEST_CASE("CRD: structural schema with the documented defaults") {
  YAML::Node schema = version_schema();
  check_structural(schema, "");
  YAML::Node spec = schema["properties"]["spec"];
  // The API server checks the spec's own default against the CEL rules without applying the nested
  // defaults first, so the default must name the fields the rules read (a real API server refused
  // `default: {}`).
  CHECK(spec["default"]["replicas"].as<int>() == 5);
  CHECK(spec["default"]["threshold"].as<int>() == 3);
  CHECK(spec["properties"]["replicas"]["default"].as<int>() == 5);
  CHECK(spec["properties"]["threshold"]["default"].as<int>() == 3);
  CHECK_FALSE(spec["properties"]["commitQuorum"]["default"]);
  CHECK(spec["properties"]["zoneTopologyKey"]["default"].as<std::string>() == "topology.kubernetes.io/zone");
  CHECK(spec["properties"]["zoneSpreadRequired"]["default"].as<bool>());
  CHECK(spec["properties"]["storage"]["properties"]["size"]["default"].as<std::string>() == "10Gi");
  for (const char* field :
       {"version", "image", "resources", "tls", "tolerations", "nodeSelector", "priorityClassName"}) {
    CHECK_MESSAGE(spec["properties"][field], field);
  }
  YAML::Node members = schema["properties"]["status"]["properties"]["members"]["items"]["properties"];
  for (const char* field : {"name", "memberID", "shareIndex", "role", "zone", "node", "version", "ready"}) {
    CHECK_MESSAGE(members[field], field);
  }
}

TEST_CASE("CRD: CEL rules, with integer division, and their messages match the reconciler's") {
  YAML::Node spec = version_schema()["properties"]["spec"];
  std::set<std::string> rules;
  for (const auto& v : spec["x-kubernetes-validations"]) rules.insert(v["rule"].as<std::string>());
  CHECK(rules.count("self.threshold >= 2"));
  CHECK(rules.count("self.replicas <= 255"));
  CHECK(rules.count("self.threshold <= self.replicas"));
  CHECK(rules.count(
      "!has(self.commitQuorum) || (self.commitQuorum >= self.replicas / 2 + 1 && self.commitQuorum >= "
      "self.threshold && self.commitQuorum <= self.replicas)"));
  YAML::Node immutable = spec["properties"]["threshold"]["x-kubernetes-validations"][0];
  CHECK(immutable["rule"].as<std::string>() == "self == oldSelf");
  CHECK(immutable["message"].as<std::string>().find("threshold is immutable") == 0);

  // A spec that slipped past admission gets the very message the API server would have given.
  std::set<std::string> messages = cel_messages(spec["x-kubernetes-validations"]);
  for (const nlohmann::json& bad : {nlohmann::json{{"threshold", 1}}, nlohmann::json{{"replicas", 300}},
                                    nlohmann::json{{"replicas", 3}, {"threshold", 4}},
                                    nlohmann::json{{"replicas", 5}, {"commitQuorum", 2}}}) {
    auto r = parse_cluster_spec(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(messages.count(r.error().message), r.error().message);
  }
}

TEST_CASE("chart: ships the CRD unchanged, appVersion 0.1.0, image tag defaults to it") {
  CHECK(read("charts/etsecd-operator/crds/etsecd.io_etsecdclusters.yaml") ==
        read("crds/etsecd.io_etsecdclusters.yaml"));
  YAML::Node chart = YAML::Load(read("charts/etsecd-operator/Chart.yaml"));
  CHECK(chart["apiVersion"].as<std::string>() == "v2");
  CHECK(chart["name"].as<std::string>() == "etsecd-operator");
  CHECK(chart["appVersion"].as<std::string>() == "0.1.0");
  YAML::Node values = YAML::Load(read("charts/etsecd-operator/values.yaml"));
  CHECK(values["image"]["tag"].as<std::string>().empty());
  CHECK(values["leaderElection"]["enabled"].as<bool>());
  CHECK(values["watchNamespaces"].IsSequence());
  CHECK(values["metrics"]["port"].as<int>() == 8080);
  std::string deployment = read("charts/etsecd-operator/templates/deployment.yaml");
  CHECK(deployment.find(".Values.image.tag | default .Chart.AppVersion") != std::string::npos);
  CHECK(deployment.find("--leader-elect=") != std::string::npos);
  CHECK(deployment.find("--watch-namespaces=") != std::string::npos);
  CHECK(deployment.find("--metrics-bind-address=") != std::string::npos);
}

TEST_CASE("chart: RBAC grants exactly the operator's verbs") {
  std::string helpers = read("charts/etsecd-operator/templates/_helpers.tpl");
  const std::string open = "{{- define \"etsecd-operator.namespacedRules\" -}}";
  std::size_t begin = helpers.find(open);
  REQUIRE(begin != std::string::npos);
  begin += open.size();
  std::size_t end = helpers.find("{{- end -}}", begin);
  YAML::Node rules = YAML::Load(helpers.substr(begin, end - begin));
  std::map<std::string, std::set<std::string>> granted;
  for (const auto& rule : rules) {
    for (const auto& resource : rule["resources"]) {
      for (const auto& verb : rule["verbs"])
        granted[resource.as<std::string>()].insert(verb.as<std::string>());
    }
  }
  using S = std::set<std::string>;
  std::map<std::string, S> expected = {
      {"etsecdclusters", S{"get", "list", "watch"}},
      {"etsecdclusters/status", S{"get", "update", "patch"}},
      {"etsecdclusters/finalizers", S{"update"}},
      {"statefulsets", S{"get", "list", "watch", "create", "patch"}},
      {"services", S{"get", "list", "watch", "create", "patch"}},
      {"poddisruptionbudgets", S{"get", "list", "watch", "create", "patch"}},
      {"secrets", S{"get", "list", "watch", "create", "patch", "delete"}},
      {"pods", S{"get", "list", "watch", "delete"}},
      {"persistentvolumeclaims", S{"get", "list", "watch", "delete"}},
      {"events", S{"create", "patch"}},
  };
  CHECK(granted == expected);
  std::string rbac = read("charts/etsecd-operator/templates/rbac.yaml");
  CHECK(rbac.find("resources: [\"leases\"]\n    verbs: [\"get\", \"create\", \"update\"]") !=
        std::string::npos);
  CHECK(rbac.find("resources: [\"nodes\"]\n    verbs: [\"get\", \"list\", \"watch\"]") != std::string::npos);
}

namespace {
// Every field the reconciler writes must exist in the schema, or the API server prunes it and the
// next pass sees a different status and writes it again, forever.
void check_in_schema(const nlohmann::json& value, const YAML::Node& schema, const std::string& path) {
  if (value.is_object()) {
    if (schema["x-kubernetes-preserve-unknown-fields"]) return;
    for (const auto& item : value.items()) {
      // A plain variable, not a structured binding: doctest's message lambda captures it (clang 14).
      const std::string key = item.key();
      const YAML::Node property =
          schema["properties"][key] ? schema["properties"][key] : schema["additionalProperties"];
      REQUIRE_MESSAGE(property, path << "." << key << " is not in the CRD schema");
      check_in_schema(item.value(), property, path + "." + key);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) check_in_schema(item, schema["items"], path + "[]");
  }
}
}  // namespace

TEST_CASE("CRD: the status the reconciler writes survives schema pruning") {
  using namespace etsecd::reconcile::testing;
  World w(cluster_object(5, 3));
  w.converge();
  w.form_cluster();
  w.converge();
  REQUIRE(w.status()["phase"] == "Running");
  check_in_schema(w.status(), version_schema()["properties"]["status"], "status");
  World invalid(cluster_object(5, 1));
  invalid.converge();
  check_in_schema(invalid.status(), version_schema()["properties"]["status"], "status");
}
