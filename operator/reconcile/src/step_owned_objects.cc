// Step 4: the Services, the StatefulSet and the PodDisruptionBudget. Each is applied when it is missing
// or when the desired manifest's hash differs from the one recorded on the object; an object of the
// same name that this cluster does not control is never taken over.
#include "pass.h"

namespace etsecd::reconcile::detail {

using nlohmann::json;

namespace {

std::string controller_uid(const json& object) {
  json::json_pointer p("/metadata/ownerReferences");
  if (!object.contains(p) || !object.at(p).is_array()) return {};
  for (const json& ref : object.at(p)) {
    if (ref.value("controller", false)) return ref.value("uid", "");
  }
  return {};
}

std::string recorded_hash(const json& object) {
  json::json_pointer p("/metadata/annotations/etsecd.io~1desired-hash");
  return object.contains(p) && object.at(p).is_string() ? object.at(p).get<std::string>() : std::string();
}

// Fields whose drift (someone edited the object by hand) is repaired even though our last applied
// manifest is unchanged: they decide how many members run, how they restart, what may be evicted.
bool drifted(const json& desired, const json& observed) {
  for (const char* pointer :
       {"/spec/replicas", "/spec/updateStrategy", "/spec/minAvailable", "/spec/selector",
        "/spec/template/spec/containers/0/args", "/spec/template/spec/containers/0/image"}) {
    json::json_pointer p(pointer);
    if (desired.contains(p) && (!observed.contains(p) || observed.at(p) != desired.at(p))) return true;
  }
  return false;
}

// Returns true when an apply was planned.
bool sync(Pass& pass, json desired, const json* observed) {
  desired = with_desired_hash(std::move(desired));
  if (observed) {
    if (controller_uid(*observed) != pass.owner.uid) {
      pass.blocked = true;
      const std::string what = desired["kind"].get<std::string>() + " " + pass.owner.ns + "/" +
                               desired["metadata"]["name"].get<std::string>();
      pass.degrade("NameConflict",
                   what + " exists but is not owned by this EtsecdCluster; it is left untouched");
      pass.request_requeue(RequeueReason::MissingDependency, std::chrono::seconds(60), "name conflict");
      return false;
    }
    if (recorded_hash(*observed) == recorded_hash(desired) && !drifted(desired, *observed)) return false;
  }
  pass.object_actions.push_back(ApplyObject{std::move(desired)});
  return true;
}

const json* find_service(const Pass& pass, const std::string& name) {
  auto it = pass.observed.services.find(name);
  return it == pass.observed.services.end() ? nullptr : &it->second;
}

}  // namespace

void step_owned_objects(Pass& pass) {
  sync(pass, peer_service_manifest(pass.names, pass.owner), find_service(pass, pass.names.peer_service()));
  sync(pass, client_service_manifest(pass.names, pass.owner),
       find_service(pass, pass.names.client_service()));

  MemberLayout layout;
  layout.bootstrap_members = pass.bootstrap_members;
  layout.statefulset_replicas = pass.statefulset_replicas;
  // The flag seeds the quorum of the initial members; later membership changes recompute W inside the
  // cluster, so the flag (and the pod template) does not change with replicas.
  // Only a W the user chose is passed on: without one, members use the default for their current voter
  // count, which they recompute at every membership change (a fixed W would block growing the cluster).
  layout.commit_quorum = pass.spec.commit_quorum.value_or(0);
  layout.image = pass.image;
  layout.version = pass.version;
  const json* sts = pass.observed.statefulset ? &*pass.observed.statefulset : nullptr;
  pass.statefulset_applied = sync(pass, statefulset_manifest(pass.names, pass.owner, pass.spec, layout), sts);

  int voters = pass.voter_count() > 0 ? pass.voter_count() : pass.bootstrap_members;
  int w = effective_commit_quorum(pass.spec, voters);
  const json* pdb = pass.observed.pod_disruption_budget ? &*pass.observed.pod_disruption_budget : nullptr;
  sync(pass, pod_disruption_budget_manifest(pass.names, pass.owner, w), pdb);
}

}  // namespace etsecd::reconcile::detail
