// Step 2: who are the members? The cluster's own member list is the truth; the status keeps member
// IDs and share indexes across operator restarts and while the cluster cannot be asked; pods add
// readiness and placement. When the status was lost it is rebuilt from the member list.
#include <algorithm>
#include <set>

#include "member_identity.h"
#include "pass.h"

namespace etsecd::reconcile::detail {

using nlohmann::json;

namespace {

int int_or(const json& j, const char* key, int fallback) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : fallback;
}

// How many members --initial-cluster names: fixed when the cluster was created, remembered in the
// status and on the StatefulSet so that losing one of them does not change it.
int bootstrap_members(const Pass& pass) {
  int from_status = int_or(pass.previous_status, "bootstrapMembers", 0);
  if (from_status > 0) return from_status;
  if (pass.observed.statefulset) {
    json::json_pointer p("/metadata/annotations/etsecd.io~1bootstrap-members");
    if (pass.observed.statefulset->contains(p) && pass.observed.statefulset->at(p).is_string()) {
      int v = std::atoi(pass.observed.statefulset->at(p).get<std::string>().c_str());
      if (v > 0) return v;
    }
  }
  return pass.spec.replicas;
}

// A member added with MemberAdd has no name until it starts; its peer URL tells which pod it is.
std::optional<int> ordinal_from_peer_urls(const ClusterNames& names, const std::vector<std::string>& urls) {
  for (const std::string& url : urls) {
    for (int i = 0; i < kMaxMembers + 1; ++i) {
      if (url == names.peer_url(i)) return i;
    }
  }
  return std::nullopt;
}

const json* previous_member(const Pass& pass, const std::string& name) {
  if (!pass.previous_status.contains("members") || !pass.previous_status["members"].is_array())
    return nullptr;
  for (const json& m : pass.previous_status["members"]) {
    if (m.value("name", "") == name) return &m;
  }
  return nullptr;
}

std::string update_revision(const Pass& pass) {
  if (!pass.observed.statefulset) return {};
  const json& sts = *pass.observed.statefulset;
  // Until the StatefulSet controller has seen the latest spec, its updateRevision is stale.
  json::json_pointer gen("/metadata/generation"), observed_gen("/status/observedGeneration");
  if (!sts.contains(gen) || !sts.contains(observed_gen) || sts.at(gen) != sts.at(observed_gen)) return {};
  json::json_pointer rev("/status/updateRevision");
  return sts.contains(rev) && sts.at(rev).is_string() ? sts.at(rev).get<std::string>() : std::string();
}

std::string zone_of(const Pass& pass, const ObservedPod& pod) {
  if (!pod.zone.empty() || !pass.observed.nodes) return pod.zone;
  for (const ObservedNode& node : *pass.observed.nodes) {
    if (node.name != pod.node_name) continue;
    auto it = node.labels.find(pass.spec.zone_topology_key);
    return it == node.labels.end() ? std::string() : it->second;
  }
  return {};
}

}  // namespace

void step_member_table(Pass& pass) {
  const ObservedMemberList& list = pass.observed.member_list;
  pass.bootstrap_members = bootstrap_members(pass);
  bool status_has_ids = false;
  if (pass.previous_status.contains("members") && pass.previous_status["members"].is_array()) {
    for (const json& m : pass.previous_status["members"]) status_has_ids |= m.contains("memberID");
  }
  pass.formed = list.available || status_has_ids;

  std::vector<MemberRow> rows;
  if (list.available) {
    for (const ObservedMember& m : list.members) {
      MemberRow row;
      row.name = m.name;
      std::optional<int> ordinal = pass.names.ordinal_of(m.name);
      if (!ordinal) ordinal = ordinal_from_peer_urls(pass.names, m.peer_urls);
      if (!ordinal) continue;  // not one of ours (added by hand): left alone
      row.ordinal = *ordinal;
      if (row.name.empty()) row.name = pass.names.member(row.ordinal);
      row.id = m.id;
      row.in_member_list = true;
      row.learner = m.is_learner;
      const json* prev = previous_member(pass, row.name);
      bool prev_same_member = prev && prev->value("memberID", "") == member_id_to_string(m.id);
      std::optional<int> derived;
      if (!m.share_index && !m.peer_urls.empty())
        derived = added_member_share_index(m.id, m.peer_urls.front(), initial_cluster_token(pass.owner));
      if (m.share_index) {
        row.share_index = m.share_index;
      } else if (derived) {
        row.share_index = derived;
      } else if (prev_same_member && prev->contains("shareIndex") &&
                 (*prev)["shareIndex"].is_number_integer()) {
        row.share_index = (*prev)["shareIndex"].get<int>();
      } else if ((!prev || !prev->contains("memberID")) && !m.is_learner &&
                 row.ordinal < pass.bootstrap_members) {
        // Initial members hold the share index of their 1-based position in --initial-cluster. (A member
        // known under another ID was re-added and got a fresh index from the cluster: not inferred.)
        row.share_index = row.ordinal + 1;
      }
      if (m.id == list.leader_id && list.leader_id != 0) pass.leader = row.name;
      rows.push_back(std::move(row));
    }
  } else if (status_has_ids) {
    for (const json& m : pass.previous_status["members"]) {
      MemberRow row;
      row.name = m.value("name", "");
      std::optional<int> ordinal = pass.names.ordinal_of(row.name);
      if (!ordinal) continue;
      row.ordinal = *ordinal;
      row.id = member_id_from_string(m.value("memberID", ""));
      row.in_member_list = row.id.has_value();
      row.learner = m.value("role", "") == "learner";
      if (m.contains("shareIndex") && m["shareIndex"].is_number_integer())
        row.share_index = m["shareIndex"].get<int>();
      rows.push_back(std::move(row));
    }
  } else {
    // Not formed yet: the members are the bootstrap members named in --initial-cluster.
    for (int i = 0; i < pass.bootstrap_members; ++i) {
      MemberRow row;
      row.name = pass.names.member(i);
      row.ordinal = i;
      row.share_index = i + 1;
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const MemberRow& a, const MemberRow& b) { return a.ordinal < b.ordinal; });

  const std::string revision = update_revision(pass);
  for (MemberRow& row : rows) {
    for (const ObservedPod& pod : pass.observed.pods) {
      if (pod.name != row.name) continue;
      row.pod = &pod;
      row.ready = pod.ready && !pod.deleting;
      row.outdated = !revision.empty() && !pod.revision.empty() && pod.revision != revision;
      row.node = pod.node_name;
      row.zone = zone_of(pass, pod);
      row.version = pod.version;
    }
  }
  pass.members = std::move(rows);

  // The StatefulSet runs a pod for every member the cluster knows (learners included, so that an added
  // learner gets its pod); before the cluster formed, for every bootstrap member.
  if (list.available && !pass.members.empty()) {
    int highest = -1;
    for (const MemberRow& row : pass.members) highest = std::max(highest, row.ordinal);
    // A member removed because its volume was lost keeps its pod until it is added again (the pod's
    // exit code is the only record that its new, empty volume may be reused).
    for (const ObservedPod& pod : pass.observed.pods) {
      std::optional<int> ordinal = pass.names.ordinal_of(pod.name);
      if (ordinal && *ordinal < pass.spec.replicas && reports_data_lost(pod))
        highest = std::max(highest, *ordinal);
    }
    pass.statefulset_replicas = std::max(highest + 1, 0);
  } else if (pass.observed.statefulset) {
    // Without the member list we cannot know better than what runs now (and must never shrink it:
    // a lost status must not look like a fresh cluster of bootstrap size).
    json::json_pointer p("/spec/replicas");
    const json& sts = *pass.observed.statefulset;
    pass.statefulset_replicas =
        sts.contains(p) && sts.at(p).is_number_integer() ? sts.at(p).get<int>() : pass.bootstrap_members;
  } else {
    pass.statefulset_replicas = pass.bootstrap_members;
  }
}

}  // namespace etsecd::reconcile::detail
