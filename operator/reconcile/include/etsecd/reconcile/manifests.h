#pragma once
// The desired Kubernetes objects of an EtsecdCluster, as full manifests for server-side apply.

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "etsecd/reconcile/cluster_spec.h"
#include "etsecd/reconcile/names.h"

namespace etsecd::reconcile {

struct Owner {
  std::string name;
  std::string ns;
  std::string uid;
};

// How the member pods are laid out, decided by the reconciler from the spec and the cluster's state.
struct MemberLayout {
  int bootstrap_members = 0;     // members named in --initial-cluster (fixed at creation)
  int statefulset_replicas = 0;  // pods the StatefulSet runs
  int commit_quorum = 0;         // --commit-quorum when spec.commitQuorum is set; 0: members' default
  std::string image;
  std::string version;
};

nlohmann::json owner_reference(const Owner& owner);

// "<m0>=https://<m0 host>:2380,<m1>=...": member i (0-based) gets share index i+1 from its position.
std::string initial_cluster(const ClusterNames& names, int bootstrap_members);
// Distinct per cluster incarnation, so a recreated cluster of the same name never talks to old members.
std::string initial_cluster_token(const Owner& owner);

nlohmann::json peer_service_manifest(const ClusterNames& names, const Owner& owner);
nlohmann::json client_service_manifest(const ClusterNames& names, const Owner& owner);
nlohmann::json statefulset_manifest(const ClusterNames& names, const Owner& owner, const ClusterSpec& spec,
                                    const MemberLayout& layout);
nlohmann::json pod_disruption_budget_manifest(const ClusterNames& names, const Owner& owner,
                                              int min_available);
// An Opaque Secret; values are raw bytes and are base64-encoded here.
nlohmann::json secret_manifest(const ClusterNames& names, const Owner& owner, const std::string& name,
                               const std::map<std::string, std::string>& data);

// Hex SHA-256 of the manifest without the hash annotation; with_desired_hash() stores it in
// metadata.annotations[kDesiredHashAnnotation].
std::string manifest_hash(const nlohmann::json& manifest);
nlohmann::json with_desired_hash(nlohmann::json manifest);

// Keys of the member TLS Secret: "ca.crt" and "<member>.<file>" for file in peer.crt, peer.key,
// server.crt, server.key. The client TLS Secret has ca.crt, tls.crt, tls.key.
inline constexpr std::string_view kCaCertKey = "ca.crt";
std::string member_tls_key(const std::string& member, std::string_view file);

// Paths inside the member container.
inline constexpr std::string_view kDataMountPath = "/var/lib/etsecd";
inline constexpr std::string_view kTlsMountPath = "/etc/etsecd/tls";

}  // namespace etsecd::reconcile
