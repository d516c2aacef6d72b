#pragma once
// Test support: an EtsecdCluster object builder and a small model of what the API server, the
// StatefulSet controller, the scheduler and the members do with a plan, so tests can drive the
// reconciler through several passes without a cluster.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "etsecd/reconcile/reconcile.h"

namespace etsecd::reconcile::testing {

inline const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::from_time_t(1'800'000'000);

nlohmann::json cluster_object(int replicas, int threshold,
                              nlohmann::json extra_spec = nlohmann::json::object());

struct World {
  ObservedState observed;
  std::chrono::system_clock::time_point now = kNow;
  std::vector<std::string> zones = {"zone-a", "zone-b", "zone-c"};
  std::uint64_t next_member_id = 0x1000;
  int next_share_index = 6;  // the cluster hands added members fresh indexes

  explicit World(nlohmann::json cluster);

  // Applies object actions and status like the API server would; member operations change the member
  // list like the cluster would. Returns the descriptions of the actions taken.
  std::vector<std::string> apply(const Plan& plan);
  Plan reconcile_once() { return reconcile(observed, now); }
  // Reconciles and applies until a pass has no actions (or `limit` passes); returns the passes used.
  int converge(int limit = 20);

  // Kubernetes-side effects: pods for the StatefulSet's replicas (scheduled round-robin over zones,
  // one per node, Ready), and the member list formed from the bootstrap members.
  void run_statefulset_pods(bool ready = true);
  void form_cluster();
  void set_nodes(int count);
  ObservedPod* pod(const std::string& name);
  nlohmann::json& status() { return observed.cluster["status"]; }
};

// Names of the actions, e.g. "apply Secret ns/demo-ca".
std::vector<std::string> describe_all(const Plan& plan);
bool has_action(const Plan& plan, const std::string& prefix);
int count_cluster_changes(const Plan& plan);
const nlohmann::json* applied(const Plan& plan, const std::string& kind, const std::string& name = "");
const nlohmann::json* condition(const nlohmann::json& status, const std::string& type);

}  // namespace etsecd::reconcile::testing
