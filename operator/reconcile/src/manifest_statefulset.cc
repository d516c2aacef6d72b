// The member StatefulSet. updateStrategy OnDelete: the operator alone decides when a member restarts.
// podManagementPolicy Parallel: bootstrap members must all start before any can become Ready.
#include "etsecd/reconcile/manifests.h"
#include "object_meta.h"

namespace etsecd::reconcile {

using nlohmann::json;

namespace {

constexpr int kNonRootId = 65532;

json field_env(const char* name, const char* path) {
  return json{{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
}

std::string tls_path(std::string_view file) { return std::string(kTlsMountPath) + "/" + std::string(file); }
std::string member_tls_path(std::string_view file) {
  // $(POD_NAME) is expanded by the kubelet from the container's env.
  return std::string(kTlsMountPath) + "/$(POD_NAME)." + std::string(file);
}

json member_args(const ClusterNames& names, const Owner& owner, const ClusterSpec& spec,
                 const MemberLayout& layout) {
  const std::string host = names.host_of("$(POD_NAME)");
  const std::string client = std::to_string(kClientPort);
  const std::string peer = std::to_string(kPeerPort);
  json args = json::array({
      "--name=$(POD_NAME)",
      "--data-dir=" + std::string(kDataMountPath) + "/data",
      "--listen-client-urls=https://$(POD_IP):" + client,
      "--advertise-client-urls=https://" + host + ":" + client,
      "--listen-peer-urls=https://$(POD_IP):" + peer,
      "--initial-advertise-peer-urls=https://" + host + ":" + peer,
      "--initial-cluster=" + initial_cluster(names, layout.bootstrap_members),
      "--initial-cluster-state=new",
      "--initial-cluster-token=" + initial_cluster_token(owner),
      "--cert-file=" + member_tls_path("server.crt"),
      "--key-file=" + member_tls_path("server.key"),
      "--trusted-ca-file=" + tls_path(kCaCertKey),
      "--client-cert-auth=true",
      "--peer-cert-file=" + member_tls_path("peer.crt"),
      "--peer-key-file=" + member_tls_path("peer.key"),
      "--peer-trusted-ca-file=" + tls_path(kCaCertKey),
      "--threshold=" + std::to_string(spec.threshold),
      "--listen-metrics-urls=http://$(POD_IP):" + std::to_string(kMetricsPort),
  });
  if (layout.commit_quorum > 0) args.push_back("--commit-quorum=" + std::to_string(layout.commit_quorum));
  return args;
}

json label_selector_terms(const ClusterNames& names) {
  return json{{"matchLabels", detail::label_map(names.selector_labels())}};
}

json member_container(const ClusterNames& names, const Owner& owner, const ClusterSpec& spec,
                      const MemberLayout& layout) {
  json container = {
      {"name", "etsecd"},
      {"image", layout.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", member_args(names, owner, spec, layout)},
      {"env",
       json::array({field_env("POD_NAME", "metadata.name"), field_env("POD_NAMESPACE", "metadata.namespace"),
                    field_env("POD_IP", "status.podIP")})},
      {"ports",
       json::array({json{{"name", "client"}, {"containerPort", kClientPort}, {"protocol", "TCP"}},
                    json{{"name", "peer"}, {"containerPort", kPeerPort}, {"protocol", "TCP"}},
                    json{{"name", "metrics"}, {"containerPort", kMetricsPort}, {"protocol", "TCP"}}})},
      // Readiness only: a liveness probe would restart members that merely lost quorum, and a restart
      // cannot bring quorum back.
      {"readinessProbe",
       {{"httpGet", {{"path", "/readyz"}, {"port", "metrics"}, {"scheme", "HTTP"}}},
        {"periodSeconds", 5},
        {"timeoutSeconds", 3},
        {"failureThreshold", 3}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"runAsNonRoot", true},
        {"runAsUser", kNonRootId},
        {"runAsGroup", kNonRootId},
        {"capabilities", {{"drop", json::array({"ALL"})}}},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"volumeMounts",
       json::array({json{{"name", names.data_volume()}, {"mountPath", std::string(kDataMountPath)}},
                    json{{"name", "tls"}, {"mountPath", std::string(kTlsMountPath)}, {"readOnly", true}},
                    json{{"name", "tmp"}, {"mountPath", "/tmp"}}})},
  };
  if (!spec.resources.empty()) container["resources"] = spec.resources;
  return container;
}

json pod_spec(const ClusterNames& names, const Owner& owner, const ClusterSpec& spec,
              const MemberLayout& layout) {
  json pod = {
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kNonRootId},
        {"runAsGroup", kNonRootId},
        {"fsGroup", kNonRootId},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"automountServiceAccountToken", false},
      {"terminationGracePeriodSeconds", 60},
      {"containers", json::array({member_container(names, owner, spec, layout)})},
      {"volumes",
       json::array({json{{"name", "tls"},
                         {"secret", {{"secretName", names.member_tls_secret()}, {"defaultMode", 0440}}}},
                    json{{"name", "tmp"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "64Mi"}}}}})},
      // Two members on one node would put two shares behind one failure and one theft.
      {"affinity",
       {{"podAntiAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           json::array({json{{"labelSelector", label_selector_terms(names)},
                             {"topologyKey", "kubernetes.io/hostname"}}})}}}}},
      {"topologySpreadConstraints",
       json::array(
           {json{{"maxSkew", 1},
                 {"topologyKey", spec.zone_topology_key},
                 {"whenUnsatisfiable", spec.zone_spread_required ? "DoNotSchedule" : "ScheduleAnyway"},
                 {"labelSelector", label_selector_terms(names)}}})},
  };
  if (!spec.tolerations.empty()) pod["tolerations"] = spec.tolerations;
  if (!spec.node_selector.empty()) pod["nodeSelector"] = spec.node_selector;
  if (!spec.priority_class_name.empty()) pod["priorityClassName"] = spec.priority_class_name;
  return pod;
}

json volume_claim_template(const ClusterNames& names, const ClusterSpec& spec) {
  json claim_spec = {{"accessModes", json::array({"ReadWriteOnce"})},
                     {"resources", {{"requests", {{"storage", spec.storage_size}}}}}};
  if (!spec.storage_class_name.empty()) claim_spec["storageClassName"] = spec.storage_class_name;
  return json{{"metadata", {{"name", names.data_volume()}, {"labels", detail::label_map(names.labels())}}},
              {"spec", claim_spec}};
}

}  // namespace

std::string member_tls_key(const std::string& member, std::string_view file) {
  return member + "." + std::string(file);
}

json statefulset_manifest(const ClusterNames& names, const Owner& owner, const ClusterSpec& spec,
                          const MemberLayout& layout) {
  json metadata = detail::owned_metadata(names, owner, names.statefulset());
  metadata["annotations"] = {
      {std::string(kBootstrapMembersAnnotation), std::to_string(layout.bootstrap_members)}};
  json template_labels = detail::label_map(names.labels());
  return json{
      {"apiVersion", "apps/v1"},
      {"kind", "StatefulSet"},
      {"metadata", metadata},
      {"spec",
       {{"replicas", layout.statefulset_replicas},
        {"serviceName", names.peer_service()},
        {"podManagementPolicy", "Parallel"},
        {"updateStrategy", {{"type", "OnDelete"}}},
        // Volumes hold shares: only the operator deletes them, and only when the cluster confirms it.
        {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
        {"selector", {{"matchLabels", detail::label_map(names.selector_labels())}}},
        {"template",
         {{"metadata",
           {{"labels", template_labels},
            {"annotations", {{std::string(kVersionAnnotation), layout.version}}}}},
          {"spec", pod_spec(names, owner, spec, layout)}}},
        {"volumeClaimTemplates", json::array({volume_claim_template(names, spec)})}}}};
}

}  // namespace etsecd::reconcile
