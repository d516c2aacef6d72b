#include "plan_executor.h"

#include <variant>

#include "etsecd/kube/errors.h"
#include "etsecd/kube/resource.h"
#include "etsecd/reconcile/names.h"

namespace etsecd::operator_cmd {
namespace {

using nlohmann::json;

Status no_members(const char* what) {
  return make_error("memberapi.unavailable", std::string(what) + ": the members' API could not be reached");
}

struct Executor {
  const ExecutionContext& ctx;

  Status operator()(const reconcile::ApplyObject& a) const {
    auto r = resource_for(a.manifest.value("apiVersion", ""), a.manifest.value("kind", ""));
    if (!r.ok()) return r.error();
    const json& meta = a.manifest.value("metadata", json::object());
    std::string ns = r->namespaced ? meta.value("namespace", "") : "";
    kube::ApplyOptions options;
    options.field_manager = std::string(reconcile::kFieldManager);
    options.force = true;
    auto applied = ctx.client.apply(*r, ns, a.manifest, options);
    return applied.ok() ? Status::Ok() : Status(applied.error());
  }

  Status operator()(const reconcile::DeleteObject& d) const {
    auto r = resource_for(d.object.api_version, d.object.kind);
    if (!r.ok()) return r.error();
    kube::DeleteOptions options;
    if (!d.object.uid.empty()) options.precondition_uid = d.object.uid;
    auto removed = ctx.client.remove(*r, d.object.ns, d.object.name, options);
    // Gone already is what we wanted; a precondition failure (recreated object) surfaces as a conflict.
    if (!removed.ok() && kube::error_kind(removed.error()) != kube::ErrorKind::kNotFound)
      return removed.error();
    return Status::Ok();
  }

  Status operator()(const reconcile::UpdateStatus& u) const {
    json object = ctx.cluster;
    object["status"] = u.status;
    // resourceVersion stays: a status computed from an older object is refused (conflict) and redone.
    auto updated = ctx.client.update_status(kube::resources::etsecd_clusters(),
                                            object["metadata"].value("namespace", ""), object);
    return updated.ok() ? Status::Ok() : Status(updated.error());
  }

  Status operator()(const reconcile::EmitEvent& e) const {
    kube::ObjectReference involved;
    involved.api_version = e.regarding.api_version;
    involved.kind = e.regarding.kind;
    involved.namespace_ = e.regarding.ns;
    involved.name = e.regarding.name;
    involved.uid = e.regarding.uid;
    return ctx.events.record(involved,
                             e.type == "Warning" ? kube::EventType::kWarning : kube::EventType::kNormal,
                             e.reason, e.message);
  }

  Status operator()(const reconcile::AddLearner& a) const {
    if (!ctx.members) return no_members("add learner");
    auto added = ctx.members->member_add(a.peer_urls, true);
    if (!added.ok()) return added.error();
    ctx.logger.info("member added as learner",
                    {{"member", a.member_name}, {"id", reconcile::member_id_to_string(added->id)}});
    return Status::Ok();
  }

  Status operator()(const reconcile::PromoteMember& p) const {
    if (!ctx.members) return no_members("promote");
    return ctx.members->member_promote(p.member_id);
  }

  Status operator()(const reconcile::RemoveMember& r) const {
    if (!ctx.members) return no_members("remove");
    return ctx.members->member_remove(r.member_id);
  }

  Status operator()(const reconcile::MoveLeader& m) const {
    if (!ctx.members) return no_members("move leader");
    return ctx.members->move_leader(m.leader_id, m.target_id);
  }
};

}  // namespace

Result<kube::Resource> resource_for(const std::string& api_version, const std::string& kind) {
  for (const kube::Resource& r :
       {kube::resources::services(), kube::resources::stateful_sets(),
        kube::resources::pod_disruption_budgets(), kube::resources::secrets(), kube::resources::pods(),
        kube::resources::persistent_volume_claims(), kube::resources::etsecd_clusters()}) {
    if (r.kind == kind && r.api_version == api_version) return r;
  }
  return make_error("operator.unsupported_kind", "the operator does not write " + api_version + " " + kind);
}

ExecutionResult execute_plan(const reconcile::Plan& plan, const ExecutionContext& ctx) {
  ExecutionResult result;
  for (const reconcile::Action& action : plan.actions) {
    if (ctx.may_act && !ctx.may_act()) {
      result.status = make_error("operator.not_leader", "stopped before \"" + reconcile::describe(action) +
                                                            "\": this replica no longer holds the lease");
      return result;
    }
    Status st = std::visit(Executor{ctx}, action);
    if (!st.ok()) {
      result.status = make_error(st.error().code, reconcile::describe(action) + ": " + st.error().message);
      return result;
    }
    ctx.logger.info("done", {{"action", reconcile::describe(action)}});
    ++result.done;
  }
  return result;
}

}  // namespace etsecd::operator_cmd
