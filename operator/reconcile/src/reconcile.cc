// The driver: runs the steps in order and assembles the Plan (objects, one cluster change, events,
// status). See docs/operator.md.
#include "etsecd/reconcile/reconcile.h"

#include <algorithm>

#include "pass.h"

namespace etsecd::reconcile {

using namespace detail;

namespace {
bool being_deleted(const nlohmann::json& cluster) {
  nlohmann::json::json_pointer p("/metadata/deletionTimestamp");
  return cluster.contains(p) && !cluster.at(p).is_null();
}
}  // namespace

Plan reconcile(const ObservedState& observed, std::chrono::system_clock::time_point now) {
  Plan plan;
  if (being_deleted(observed.cluster)) {
    // Owner references let the garbage collector remove what we own; PVCs stay (retention Retain).
    plan.requeue = Requeue{RequeueReason::Deleting, std::nullopt, "the EtsecdCluster is being deleted"};
    return plan;
  }
  Pass pass(observed, now);
  if (step_validate_spec(pass)) {
    step_member_table(pass);
    step_tls_secrets(pass);
    step_owned_objects(pass);
    step_placement(pass);
    step_orchestrate(pass);
  }
  for (Action& a : pass.object_actions) plan.actions.push_back(std::move(a));
  if (pass.cluster_change) {
    plan.actions.push_back(std::move(*pass.cluster_change));
    plan.changes_cluster = true;
  }
  for (EmitEvent& e : pass.events) plan.actions.emplace_back(std::move(e));
  step_status(pass, plan);

  if (!pass.requeue) {
    std::chrono::seconds after = observed.config.resync_period;
    if (pass.next_certificate_renewal) {
      auto until = std::chrono::duration_cast<std::chrono::seconds>(*pass.next_certificate_renewal - now);
      after = std::clamp(until, std::chrono::seconds(1), after);
    }
    pass.requeue = Requeue{RequeueReason::Steady, after, "in sync"};
  }
  plan.requeue = *pass.requeue;
  return plan;
}

}  // namespace etsecd::reconcile
