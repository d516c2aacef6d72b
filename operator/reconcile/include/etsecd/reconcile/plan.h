#pragma once
// What one reconcile pass asks the caller to do. Actions are ordered: the caller executes them in order
// and stops at the first failure (then requeues with its own backoff). Object actions come first, then
// at most one change to the cluster, then Events, then the status update.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace etsecd::reconcile {

struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;  // when set, a precondition for deletes
};

// Server-side apply of a full manifest (apiVersion, kind, metadata with ownerReferences and labels),
// field manager kFieldManager, force=true.
struct ApplyObject {
  nlohmann::json manifest;
};

struct DeleteObject {
  ObjectRef object;
  std::string reason;
};

// Replace the EtsecdCluster's status subresource with this full status.
struct UpdateStatus {
  nlohmann::json status;
};

struct EmitEvent {
  std::string type;  // "Normal" or "Warning"
  std::string reason;
  std::string message;
  ObjectRef regarding;
};

// etcd Cluster.MemberAdd with isLearner=true.
struct AddLearner {
  std::string member_name;
  std::vector<std::string> peer_urls;
};
// etcd Cluster.MemberPromote.
struct PromoteMember {
  std::uint64_t member_id = 0;
  std::string member_name;
};
// etcd Cluster.MemberRemove.
struct RemoveMember {
  std::uint64_t member_id = 0;
  std::string member_name;
};
// etcd Maintenance.MoveLeader, sent to the current leader.
struct MoveLeader {
  std::uint64_t leader_id = 0;
  std::uint64_t target_id = 0;
  std::string target_name;
};

using Action = std::variant<ApplyObject, DeleteObject, UpdateStatus, EmitEvent, AddLearner, PromoteMember,
                            RemoveMember, MoveLeader>;

enum class RequeueReason {
  Steady,                // nothing to do; periodic resync or next certificate renewal
  ChangeInProgress,      // a change was just made; look again soon
  NotReady,              // waiting for members or objects to become ready
  MemberApiUnavailable,  // the cluster's member list could not be read
  MissingDependency,     // a Secret or nodes the spec needs are missing; retry periodically
  InvalidSpec,           // nothing helps until the spec changes: wait for a watch event
  Deleting,              // the EtsecdCluster is being deleted; garbage collection does the rest
};

struct Requeue {
  RequeueReason reason = RequeueReason::Steady;
  std::optional<std::chrono::seconds> after;  // nullopt: only a watch event reconciles again
  std::string message;
};

struct Plan {
  std::vector<Action> actions;
  Requeue requeue;
  // True when actions include a change to the cluster itself (member operation, pod or PVC delete).
  bool changes_cluster = false;
};

const char* to_string(RequeueReason reason);
// One line per action, for logs and tests ("apply StatefulSet ns/demo", "add-learner demo-5", ...).
std::string describe(const Action& action);

}  // namespace etsecd::reconcile
