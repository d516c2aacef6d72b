#pragma once
// Everything the reconciler looks at, gathered by the caller (the API client and the member API) for
// one EtsecdCluster. Kubernetes objects are passed as the JSON the API server returned; the observe_*
// helpers turn objects into the small records below.

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace etsecd::reconcile {

// Settings of the operator process (flags), not of one cluster.
struct OperatorConfig {
  std::string member_image_repository = "etsecd/etsecd-node";
  std::string default_version = "0.1.0";
  std::string cluster_domain = "cluster.local";
  std::chrono::seconds ca_validity{std::chrono::hours(24 * 365 * 10)};
  std::chrono::seconds certificate_validity{std::chrono::hours(24 * 365)};
  std::chrono::seconds renew_before{std::chrono::hours(24 * 30)};
  std::chrono::seconds resync_period{std::chrono::minutes(5)};
};

struct ObservedPod {
  std::string name;
  std::string uid;        // precondition for deletes: never delete a pod recreated meanwhile
  std::string node_name;  // empty while unscheduled
  std::string zone;       // empty: look the node up in ObservedState::nodes
  std::string ip;
  std::string phase;      // Pending, Running, ...
  bool ready = false;     // condition Ready=True
  bool deleting = false;  // metadata.deletionTimestamp set
  std::string revision;   // label controller-revision-hash
  std::string version;    // annotation etsecd.io/version
  bool running = false;   // the member container is running now
  // Exit code of the member container's current terminated state, else of its last termination.
  std::optional<int> exit_code;
};

// etsecd-node's exit status when it refused to start because its data directory is empty although the
// cluster already heard from it (server::kExitMemberDataLost): the member must be removed and added again.
inline constexpr int kMemberDataLostExitCode = 3;

// The pod says its member's data was lost (docs/operator.md, "Replacing a member whose volume was lost").
bool reports_data_lost(const ObservedPod& pod);

struct ObservedSecret {
  std::string name;
  std::map<std::string, std::string> data;  // base64-decoded
  std::string controller_uid;               // uid of the controlling owner, empty if none
};

struct ObservedPvc {
  std::string name;
  std::string phase;  // Pending, Bound, Lost
  bool deleting = false;
  std::string uid;  // precondition for deletes
};

struct ObservedNode {
  std::string name;
  std::map<std::string, std::string> labels;
  bool unschedulable = false;
};

// One entry of the cluster's own member list (etcd v3 Cluster.MemberList).
struct ObservedMember {
  std::uint64_t id = 0;
  std::string name;  // empty for a member added but not started yet
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
  std::optional<int> share_index;  // when the cluster reports it
};

struct ObservedMemberList {
  bool available = false;  // false: the cluster could not be asked (error says why)
  std::string error;
  std::uint64_t leader_id = 0;  // 0: no leader known
  std::vector<ObservedMember> members;
};

struct ObservedState {
  OperatorConfig config;
  nlohmann::json cluster;  // the EtsecdCluster object (metadata, spec, status)
  std::optional<nlohmann::json> statefulset;
  std::map<std::string, nlohmann::json> services;  // by name
  std::optional<nlohmann::json> pod_disruption_budget;
  std::map<std::string, ObservedSecret> secrets;   // by name: owned ones and spec.tls.existingCASecret
  std::vector<ObservedPod> pods;                   // pods matching the cluster's selector labels
  std::vector<ObservedPvc> pvcs;                   // PVCs of the StatefulSet's claim template
  std::optional<std::vector<ObservedNode>> nodes;  // nullopt: nodes were not read
  ObservedMemberList member_list;
  // Names of removed members for which the cluster confirmed that every committed value still has k
  // holders without them. Only these members' volumes may ever be deleted. Default: none.
  std::set<std::string> share_redundancy_confirmed;
};

ObservedPod observe_pod(const nlohmann::json& pod);
ObservedSecret observe_secret(const nlohmann::json& secret);  // invalid base64 values are dropped
ObservedPvc observe_pvc(const nlohmann::json& pvc);
ObservedNode observe_node(const nlohmann::json& node);

// Member IDs as etcdctl prints them (lower-case hexadecimal), and back.
std::string member_id_to_string(std::uint64_t id);
std::optional<std::uint64_t> member_id_from_string(const std::string& hex);

}  // namespace etsecd::reconcile
