#include "observe.h"

#include "etsecd/kube/errors.h"
#include "etsecd/kube/resource.h"
#include "etsecd/reconcile/names.h"

namespace etsecd::operator_cmd {
namespace {

using nlohmann::json;

bool has_instance_label(const json& object, const std::string& cluster) {
  const json& labels = object.value("metadata", json::object()).value("labels", json::object());
  auto it = labels.find("app.kubernetes.io/instance");
  return it != labels.end() && it->is_string() && it->get<std::string>() == cluster;
}

// Adds the Secret if it exists; NotFound is a normal answer (the reconciler creates it).
Status read_secret(kube::Client& client, const std::string& ns, const std::string& name,
                   reconcile::ObservedState& state) {
  auto secret = client.get(kube::resources::secrets(), ns, name);
  if (secret.ok()) {
    state.secrets[name] = reconcile::observe_secret(*secret);
    return Status::Ok();
  }
  if (kube::error_kind(secret.error()) == kube::ErrorKind::kNotFound) return Status::Ok();
  return secret.error();
}

}  // namespace

std::vector<memberapi::Endpoint> member_endpoints(const reconcile::ObservedState& state) {
  const json& meta = state.cluster.value("metadata", json::object());
  reconcile::ClusterNames names(meta.value("name", ""), meta.value("namespace", ""),
                                state.config.cluster_domain);
  std::vector<memberapi::Endpoint> out;
  for (const reconcile::ObservedPod& pod : state.pods) {
    if (pod.ip.empty() || pod.deleting || !names.ordinal_of(pod.name)) continue;
    std::string host = pod.ip.find(':') != std::string::npos ? "[" + pod.ip + "]" : pod.ip;
    out.push_back({host + ":" + std::to_string(reconcile::kClientPort), names.host_of(pod.name)});
  }
  return out;
}

Result<std::optional<Observation>> observe_cluster(kube::Client& client, const Caches& caches,
                                                   const reconcile::OperatorConfig& config,
                                                   const std::string& ns, const std::string& name,
                                                   std::chrono::milliseconds member_call_timeout) {
  auto cluster = client.get(kube::resources::etsecd_clusters(), ns, name);
  if (!cluster.ok()) {
    if (kube::error_kind(cluster.error()) == kube::ErrorKind::kNotFound) return std::optional<Observation>{};
    return cluster.error();
  }
  Observation obs;
  reconcile::ObservedState& s = obs.state;
  s.config = config;
  s.cluster = std::move(*cluster);
  reconcile::ClusterNames names(name, ns, config.cluster_domain);

  s.statefulset = caches.get(Kind::kStatefulSet, ns, names.statefulset());
  for (const std::string& svc : {names.peer_service(), names.client_service()}) {
    if (auto o = caches.get(Kind::kService, ns, svc)) s.services[svc] = std::move(*o);
  }
  s.pod_disruption_budget = caches.get(Kind::kPodDisruptionBudget, ns, names.pod_disruption_budget());

  for (const std::string& secret :
       {names.ca_secret(), names.member_tls_secret(), names.client_tls_secret()}) {
    if (Status st = read_secret(client, ns, secret, s); !st.ok()) return st.error();
  }
  const json& tls = s.cluster.value("spec", json::object()).value("tls", json::object());
  if (auto it = tls.find("existingCASecret");
      it != tls.end() && it->is_string() && !it->get<std::string>().empty()) {
    if (Status st = read_secret(client, ns, it->get<std::string>(), s); !st.ok()) return st.error();
  }

  for (const json& pod : caches.list(Kind::kPod, ns)) {
    if (has_instance_label(pod, name)) s.pods.push_back(reconcile::observe_pod(pod));
  }
  const std::string pvc_prefix = names.data_volume() + "-" + names.statefulset() + "-";
  for (const json& pvc : caches.list(Kind::kPvc, ns)) {
    std::string pvc_name = pvc.value("metadata", json::object()).value("name", "");
    if (has_instance_label(pvc, name) && pvc_name.rfind(pvc_prefix, 0) == 0) {
      s.pvcs.push_back(reconcile::observe_pvc(pvc));
    }
  }
  if (auto nodes = caches.nodes()) {
    s.nodes.emplace();
    for (const json& node : *nodes) s.nodes->push_back(reconcile::observe_node(node));
  }

  auto client_tls = s.secrets.find(names.client_tls_secret());
  std::vector<memberapi::Endpoint> endpoints = member_endpoints(s);
  if (client_tls == s.secrets.end()) {
    s.member_list = memberapi::unavailable_member_list(
        make_error("memberapi.config", "Secret " + names.client_tls_secret() + " does not exist yet"));
  } else if (endpoints.empty()) {
    s.member_list = memberapi::unavailable_member_list(
        make_error("memberapi.config", "no member pod has an IP address yet"));
  } else {
    const auto& data = client_tls->second.data;
    auto field = [&data](const char* key) {
      auto it = data.find(key);
      return it == data.end() ? std::string() : it->second;
    };
    memberapi::MemberApiOptions options;
    options.endpoints = std::move(endpoints);
    options.tls = {field("ca.crt"), field("tls.crt"), field("tls.key")};
    options.call_timeout = member_call_timeout;
    auto members = memberapi::MemberApiClient::create(std::move(options));
    if (!members.ok()) {
      s.member_list = memberapi::unavailable_member_list(members.error());
    } else {
      obs.members = std::move(*members);
      auto list = obs.members->member_list();
      s.member_list = list.ok() ? std::move(*list) : memberapi::unavailable_member_list(list.error());
    }
  }
  return std::optional<Observation>(std::move(obs));
}

}  // namespace etsecd::operator_cmd
