#pragma once
// The working state of one reconcile pass, shared by the steps (one file per step: step_*.cc). Steps
// read `observed`, record decisions here, and the driver (reconcile.cc) turns them into the Plan.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/reconcile/cluster_spec.h"
#include "etsecd/reconcile/manifests.h"
#include "etsecd/reconcile/names.h"
#include "etsecd/reconcile/observed_state.h"
#include "etsecd/reconcile/plan.h"

namespace etsecd::reconcile::detail {

using TimePoint = std::chrono::system_clock::time_point;

// One row of the member table: what the cluster, the status and the pod say about one member.
struct MemberRow {
  std::string name;
  int ordinal = -1;
  std::optional<std::uint64_t> id;
  bool in_member_list = false;
  bool learner = false;
  std::optional<int> share_index;
  const ObservedPod* pod = nullptr;
  bool ready = false;     // pod exists, is Ready and not being deleted
  bool outdated = false;  // pod runs an older StatefulSet revision than the current one
  std::string zone;
  std::string node;
  std::string version;
};

struct ConditionState {
  bool status = false;
  std::string reason;
  std::string message;
};

// Cluster phases (status.phase); see docs/operator.md for the state machine.
namespace phase {
inline constexpr const char* kInvalid = "Invalid";
inline constexpr const char* kCreating = "Creating";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kDegraded = "Degraded";
inline constexpr const char* kScalingUp = "ScalingUp";
inline constexpr const char* kScalingDown = "ScalingDown";
inline constexpr const char* kUpgrading = "Upgrading";
inline constexpr const char* kDeleting = "Deleting";
}  // namespace phase

struct Pass {
  Pass(const ObservedState& o, TimePoint t);

  const ObservedState& observed;
  TimePoint now;
  Owner owner;
  ClusterNames names;
  std::int64_t generation = 0;
  nlohmann::json previous_status;  // object, possibly empty

  ClusterSpec spec;  // valid once step_validate_spec succeeded

  // Member table (step_member_table).
  int bootstrap_members = 0;
  bool formed = false;             // the cluster has ever answered with a member list
  std::vector<MemberRow> members;  // sorted by ordinal
  std::string leader;
  int statefulset_replicas = 0;
  std::string version;
  std::string image;

  // Decisions.
  std::vector<Action> object_actions;
  std::optional<Action> cluster_change;
  std::vector<EmitEvent> events;
  std::map<std::string, ConditionState> conditions;  // Available, Progressing, Degraded, ZoneLeakRisk
  std::string phase;
  std::optional<Requeue> requeue;
  std::optional<TimePoint> next_certificate_renewal;
  bool statefulset_applied = false;
  bool blocked = false;  // an object conflict or missing input stops orchestration this pass

  // Keeps the sooner of two requeues; one without a timer only wins when nothing asked for a timer.
  void request_requeue(RequeueReason reason, std::optional<std::chrono::seconds> after, std::string message);
  void set_condition(const std::string& type, bool status, std::string reason, std::string message);
  // Sets Degraded=True unless an earlier step already did: the first problem found is reported.
  void degrade(std::string reason, std::string message);
  void warn(std::string reason, std::string message);
  void note(std::string reason, std::string message);
  ObjectRef cluster_ref() const;
  const MemberRow* find_member(const std::string& name) const;
  int voter_count() const;
  int ready_voter_count() const;
};

// The steps, in the order the driver runs them. Each returns false when the pass must stop after it
// (the status is still written).
bool step_validate_spec(Pass& pass);
void step_member_table(Pass& pass);
void step_tls_secrets(Pass& pass);
void step_owned_objects(Pass& pass);
void step_placement(Pass& pass);
void step_orchestrate(Pass& pass);
void step_status(Pass& pass, Plan& plan);

// RFC 3339 UTC with seconds, as Kubernetes writes times.
std::string format_time(TimePoint t);

}  // namespace etsecd::reconcile::detail
