#pragma once
// Names, labels and URLs of everything an EtsecdCluster owns. One place, so that the reconciler, the
// manifests, the API client and the e2e tests agree on them.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace etsecd::reconcile {

inline constexpr int kClientPort = 2379;
inline constexpr int kPeerPort = 2380;
inline constexpr int kMetricsPort = 2381;

inline constexpr std::string_view kGroup = "etsecd.io";
inline constexpr std::string_view kApiVersion = "etsecd.io/v1alpha1";
inline constexpr std::string_view kKind = "EtsecdCluster";
inline constexpr std::string_view kFieldManager = "etsecd-operator";

// Annotation holding a hash of the manifest we last applied: an object is re-applied only when the
// desired manifest's hash differs, which keeps the reconciler idempotent despite server defaulting.
inline constexpr std::string_view kDesiredHashAnnotation = "etsecd.io/desired-hash";
// Annotation on the StatefulSet: how many members --initial-cluster names (survives a lost status).
inline constexpr std::string_view kBootstrapMembersAnnotation = "etsecd.io/bootstrap-members";
// Pod annotation with the member version (versions may hold characters labels forbid).
inline constexpr std::string_view kVersionAnnotation = "etsecd.io/version";

class ClusterNames {
 public:
  ClusterNames(std::string cluster, std::string ns, std::string cluster_domain);

  const std::string& cluster() const { return cluster_; }
  const std::string& ns() const { return ns_; }

  std::string statefulset() const { return cluster_; }
  std::string peer_service() const { return cluster_ + "-peer"; }
  std::string client_service() const { return cluster_; }
  std::string pod_disruption_budget() const { return cluster_; }
  std::string ca_secret() const { return cluster_ + "-ca"; }
  std::string member_tls_secret() const { return cluster_ + "-member-tls"; }
  std::string client_tls_secret() const { return cluster_ + "-client-tls"; }
  std::string data_volume() const { return "data"; }
  // PVC of a member: <volumeClaimTemplate>-<statefulset>-<ordinal>, as the StatefulSet controller names it.
  std::string member_pvc(int ordinal) const;

  std::string member(int ordinal) const { return cluster_ + "-" + std::to_string(ordinal); }
  // The ordinal of a member or pod name of this cluster, nullopt for any other name.
  std::optional<int> ordinal_of(std::string_view member_name) const;

  std::string member_host(int ordinal) const;               // <member>.<peer service>.<ns>.svc.<domain>
  std::string host_of(std::string_view member_name) const;  // same, for any name or "$(POD_NAME)"
  const std::string& cluster_domain() const { return domain_; }
  std::string client_service_host() const;    // <client service>.<ns>.svc.<domain>
  std::string peer_url(int ordinal) const;    // https://<member host>:2380
  std::string client_url(int ordinal) const;  // https://<member host>:2379

  // Labels on every owned object; the selector labels are the subset that selects member pods.
  std::map<std::string, std::string> labels() const;
  std::map<std::string, std::string> selector_labels() const;
  std::string selector_string() const;  // "k=v,k=v", for status.selector (scale subresource)

 private:
  std::string cluster_;
  std::string ns_;
  std::string domain_;
};

}  // namespace etsecd::reconcile
