#include "test_world.h"

#include <algorithm>

#include "etsecd/reconcile/manifests.h"
#include "etsecd/reconcile/names.h"

namespace etsecd::reconcile::testing {

using nlohmann::json;

json cluster_object(int replicas, int threshold, json extra_spec) {
  json spec = {{"replicas", replicas}, {"threshold", threshold}};
  spec.update(extra_spec);
  return json{{"apiVersion", "etsecd.io/v1alpha1"},
              {"kind", "EtsecdCluster"},
              {"metadata", {{"name", "demo"}, {"namespace", "ns"}, {"uid", "uid-1"}, {"generation", 1}}},
              {"spec", spec}};
}

World::World(json cluster) {
  observed.cluster = std::move(cluster);
  set_nodes(6);
}

void World::set_nodes(int count) {
  std::vector<ObservedNode> nodes;
  for (int i = 0; i < count; ++i) {
    nodes.push_back(ObservedNode{"node-" + std::to_string(i),
                                 {{"topology.kubernetes.io/zone", zones[std::size_t(i) % zones.size()]},
                                  {"kubernetes.io/hostname", "node-" + std::to_string(i)}},
                                 false});
  }
  observed.nodes = nodes;
}

namespace {

std::string template_revision(const json& sts) {
  return "rev-" + manifest_hash(json{{"t", sts["spec"]["template"]}}).substr(0, 8);
}

void apply_object(World& w, json manifest) {
  const std::string kind = manifest["kind"];
  const std::string name = manifest["metadata"]["name"];
  if (kind == "Secret") {
    w.observed.secrets[name] = observe_secret(manifest);
  } else if (kind == "Service") {
    w.observed.services[name] = manifest;
  } else if (kind == "PodDisruptionBudget") {
    w.observed.pod_disruption_budget = manifest;
  } else if (kind == "StatefulSet") {
    // The API server bumps the generation on spec changes; the controller then catches up.
    std::int64_t generation = 1;
    if (w.observed.statefulset) {
      generation = (*w.observed.statefulset)["metadata"]["generation"].get<std::int64_t>();
      if ((*w.observed.statefulset)["spec"] != manifest["spec"]) ++generation;
    }
    manifest["metadata"]["generation"] = generation;
    manifest["status"] = {{"observedGeneration", generation},
                          {"updateRevision", template_revision(manifest)}};
    w.observed.statefulset = manifest;
  }
}

ObservedMember* member_by_id(World& w, std::uint64_t id) {
  for (ObservedMember& m : w.observed.member_list.members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> World::apply(const Plan& plan) {
  std::vector<std::string> done;
  for (const Action& action : plan.actions) {
    done.push_back(describe(action));
    if (auto* a = std::get_if<ApplyObject>(&action)) {
      apply_object(*this, a->manifest);
    } else if (auto* s = std::get_if<UpdateStatus>(&action)) {
      observed.cluster["status"] = s->status;
    } else if (auto* d = std::get_if<DeleteObject>(&action)) {
      if (d->object.kind == "Pod") {
        std::erase_if(observed.pods, [&](const ObservedPod& p) { return p.name == d->object.name; });
      } else if (d->object.kind == "PersistentVolumeClaim") {
        std::erase_if(observed.pvcs, [&](const ObservedPvc& p) { return p.name == d->object.name; });
      }
    } else if (auto* add = std::get_if<AddLearner>(&action)) {
      observed.member_list.members.push_back(
          ObservedMember{next_member_id++, "", add->peer_urls, {}, true, next_share_index++});
    } else if (auto* promote = std::get_if<PromoteMember>(&action)) {
      if (ObservedMember* m = member_by_id(*this, promote->member_id)) m->is_learner = false;
    } else if (auto* remove = std::get_if<RemoveMember>(&action)) {
      std::erase_if(observed.member_list.members,
                    [&](const ObservedMember& m) { return m.id == remove->member_id; });
    } else if (auto* move = std::get_if<MoveLeader>(&action)) {
      observed.member_list.leader_id = move->target_id;
    }
  }
  return done;
}

int World::converge(int limit) {
  for (int pass = 1; pass <= limit; ++pass) {
    Plan plan = reconcile_once();
    if (plan.actions.empty()) return pass;
    apply(plan);
    run_statefulset_pods();
  }
  return -1;
}

void World::run_statefulset_pods(bool ready) {
  if (!observed.statefulset) return;
  const json& sts = *observed.statefulset;
  const int replicas = sts["spec"]["replicas"];
  const std::string cluster = sts["metadata"]["name"];
  const std::string revision = sts["status"]["updateRevision"];
  // Pods beyond replicas go away; missing ones are created at the current revision.
  ClusterNames names(cluster, "ns", observed.config.cluster_domain);
  std::erase_if(observed.pods,
                [&](const ObservedPod& p) { return names.ordinal_of(p.name).value_or(0) >= replicas; });
  for (int i = 0; i < replicas; ++i) {
    const std::string name = names.member(i);
    if (pod(name)) continue;
    ObservedPod p;
    p.name = name;
    p.node_name = "node-" + std::to_string(i);
    p.phase = "Running";
    p.ready = ready;
    p.revision = revision;
    p.version = sts["spec"]["template"]["metadata"]["annotations"]["etsecd.io/version"];
    observed.pods.push_back(p);
    if (std::none_of(observed.pvcs.begin(), observed.pvcs.end(),
                     [&](const ObservedPvc& v) { return v.name == names.member_pvc(i); })) {
      observed.pvcs.push_back(
          ObservedPvc{names.member_pvc(i), "Bound", false, "pvc-uid-" + std::to_string(i)});
    }
    // A learner's pod starts and names its member.
    for (ObservedMember& m : observed.member_list.members) {
      if (m.name.empty() && !m.peer_urls.empty() && m.peer_urls[0] == names.peer_url(i)) m.name = name;
    }
  }
}

void World::form_cluster() {
  ObservedMemberList list;
  list.available = true;
  for (const ObservedPod& p : observed.pods) {
    list.members.push_back(ObservedMember{next_member_id++, p.name, {}, {}, false, {}});
  }
  std::sort(list.members.begin(), list.members.end(),
            [](const ObservedMember& a, const ObservedMember& b) { return a.name < b.name; });
  if (!list.members.empty()) list.leader_id = list.members.front().id;
  observed.member_list = list;
}

ObservedPod* World::pod(const std::string& name) {
  for (ObservedPod& p : observed.pods) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> describe_all(const Plan& plan) {
  std::vector<std::string> out;
  for (const Action& a : plan.actions) out.push_back(describe(a));
  return out;
}

bool has_action(const Plan& plan, const std::string& prefix) {
  for (const Action& a : plan.actions) {
    if (describe(a).rfind(prefix, 0) == 0) return true;
  }
  return false;
}

int count_cluster_changes(const Plan& plan) {
  int n = 0;
  for (const Action& a : plan.actions) {
    n += std::holds_alternative<AddLearner>(a) || std::holds_alternative<PromoteMember>(a) ||
         std::holds_alternative<RemoveMember>(a) || std::holds_alternative<MoveLeader>(a) ||
         std::holds_alternative<DeleteObject>(a);
  }
  return n;
}

const json* applied(const Plan& plan, const std::string& kind, const std::string& name) {
  for (const Action& a : plan.actions) {
    if (auto* apply = std::get_if<ApplyObject>(&a)) {
      if (apply->manifest["kind"] == kind && (name.empty() || apply->manifest["metadata"]["name"] == name)) {
        return &apply->manifest;
      }
    }
  }
  return nullptr;
}

const json* condition(const json& status, const std::string& type) {
  if (!status.contains("conditions")) return nullptr;
  for (const json& c : status["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

}  // namespace etsecd::reconcile::testing
