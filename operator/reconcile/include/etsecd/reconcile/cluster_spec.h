#pragma once
// The EtsecdCluster spec as the reconciler uses it: defaults applied and every rule the CRD's CEL
// expressions enforce checked again, so an object that bypassed admission still gets a clear error.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "etsecd/common/result.h"

namespace etsecd::reconcile {

inline constexpr int kMaxMembers = 255;  // share indexes are the non-zero values of one byte

struct ClusterSpec {
  int replicas = 5;
  int threshold = 3;
  std::optional<int> commit_quorum;
  std::string version;  // empty: the operator's default version
  std::string image;    // empty: <member image repository>:<version>
  std::string storage_size = "10Gi";
  std::string storage_class_name;
  std::string zone_topology_key = "topology.kubernetes.io/zone";
  bool zone_spread_required = true;
  nlohmann::json resources = nlohmann::json::object();
  std::string existing_ca_secret;  // empty: the operator runs its own CA
  nlohmann::json tolerations = nlohmann::json::array();
  nlohmann::json node_selector = nlohmann::json::object();
  std::string priority_class_name;
};

// W when the spec leaves it open: a Raft majority, and never fewer than k so that every committed value
// stays rebuildable.
int default_commit_quorum(int members, int threshold);
// True when w is a legal commit quorum for n members with threshold k.
bool commit_quorum_allowed(int w, int members, int threshold);
// spec.commitQuorum if legal for `members` voters, else the default.
int effective_commit_quorum(const ClusterSpec& spec, int members);

struct FaultTolerance {
  int writes = 0;                  // n - W: members that may fail while writes still commit
  int reads_after_commit = 0;      // W - k: failures right after a commit that reads survive
  int reads_fully_replicated = 0;  // n - k: failures once a value reached every member
};
FaultTolerance fault_tolerance(int members, int commit_quorum, int threshold);

// Errors: code "spec.invalid" with a message naming the field and the rule.
Result<ClusterSpec> parse_cluster_spec(const nlohmann::json& spec);

}  // namespace etsecd::reconcile
