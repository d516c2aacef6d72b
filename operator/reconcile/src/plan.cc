// Human-readable descriptions of plans, for logs and test failure messages.
#include "etsecd/reconcile/plan.h"

#include "etsecd/reconcile/observed_state.h"

namespace etsecd::reconcile {

const char* to_string(RequeueReason reason) {
  switch (reason) {
    case RequeueReason::Steady:
      return "Steady";
    case RequeueReason::ChangeInProgress:
      return "ChangeInProgress";
    case RequeueReason::NotReady:
      return "NotReady";
    case RequeueReason::MemberApiUnavailable:
      return "MemberApiUnavailable";
    case RequeueReason::MissingDependency:
      return "MissingDependency";
    case RequeueReason::InvalidSpec:
      return "InvalidSpec";
    case RequeueReason::Deleting:
      return "Deleting";
  }
  return "Unknown";
}

namespace {
std::string object_name(const nlohmann::json& manifest) {
  return manifest.value("kind", "?") + " " + manifest["metadata"].value("namespace", "") + "/" +
         manifest["metadata"].value("name", "");
}

struct Describer {
  std::string operator()(const ApplyObject& a) const { return "apply " + object_name(a.manifest); }
  std::string operator()(const DeleteObject& d) const {
    return "delete " + d.object.kind + " " + d.object.ns + "/" + d.object.name + " (" + d.reason + ")";
  }
  std::string operator()(const UpdateStatus&) const { return "update-status"; }
  std::string operator()(const EmitEvent& e) const {
    return "event " + e.type + " " + e.reason + ": " + e.message;
  }
  std::string operator()(const AddLearner& a) const { return "add-learner " + a.member_name; }
  std::string operator()(const PromoteMember& p) const {
    return "promote " + p.member_name + " (" + member_id_to_string(p.member_id) + ")";
  }
  std::string operator()(const RemoveMember& r) const {
    return "remove-member " + r.member_name + " (" + member_id_to_string(r.member_id) + ")";
  }
  std::string operator()(const MoveLeader& m) const { return "move-leader to " + m.target_name; }
};
}  // namespace

std::string describe(const Action& action) { return std::visit(Describer{}, action); }

}  // namespace etsecd::reconcile
