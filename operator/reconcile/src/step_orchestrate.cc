// Step 6: at most one change to the cluster per pass, chosen by priority (docs/operator.md):
//   replace a member whose volume was lost  >  repair an unhealthy member  >  [readiness gate]  >  promote a
//   caught-up learner  >  remove a member >  delete a confirmed-redundant volume  >  add a learner  > restart
//   an outdated member.
// Membership changes are never combined, and nothing but a repair happens while any member is not
// Ready. The requeue reason says what the next pass waits for.
#include <algorithm>

#include "pass.h"

namespace etsecd::reconcile::detail {

namespace {

constexpr std::chrono::seconds kSoon{5};
constexpr std::chrono::seconds kNotReadyWait{10};
constexpr std::chrono::seconds kMemberApiRetry{15};

ObjectRef pod_ref(const Pass& pass, const MemberRow& member) {
  return ObjectRef{"v1", "Pod", pass.owner.ns, member.name, member.pod ? member.pod->uid : std::string()};
}

void change(Pass& pass, Action action, const char* phase_name, const std::string& reason,
            const std::string& message) {
  pass.cluster_change = std::move(action);
  pass.phase = phase_name;
  pass.set_condition("Progressing", true, reason, message);
  pass.note(reason, message);
  pass.request_requeue(RequeueReason::ChangeInProgress, kSoon, message);
}

const MemberRow* leader_row(const Pass& pass) {
  return pass.leader.empty() ? nullptr : pass.find_member(pass.leader);
}

// The lowest-ordinal Ready voter other than `except`: where leadership goes before `except` stops.
const MemberRow* transfer_target(const Pass& pass, const MemberRow& except, bool require_current) {
  for (const MemberRow& m : pass.members) {
    if (&m == &except || m.learner || !m.ready || !m.id) continue;
    if (require_current && m.outdated) continue;
    return &m;
  }
  return nullptr;
}

bool step_aside_if_leader(Pass& pass, const MemberRow& victim, const char* phase_name, bool prefer_current) {
  const MemberRow* leader = leader_row(pass);
  if (leader != &victim) return false;
  const MemberRow* target = transfer_target(pass, victim, prefer_current);
  if (!target && prefer_current) target = transfer_target(pass, victim, false);
  if (!target) return false;
  change(
      pass, MoveLeader{*victim.id, *target->id, target->name}, phase_name, "MovingLeader",
      "moving leadership from " + victim.name + " to " + target->name + " before " + victim.name + " stops");
  return true;
}

std::string list_names(const std::vector<const MemberRow*>& rows) {
  std::string out;
  for (const MemberRow* r : rows) out += (out.empty() ? "" : ", ") + r->name;
  return out;
}

bool statefulset_settled(const Pass& pass) {
  if (!pass.observed.statefulset || pass.statefulset_applied) return false;
  const nlohmann::json& sts = *pass.observed.statefulset;
  nlohmann::json::json_pointer gen("/metadata/generation"), seen("/status/observedGeneration");
  return sts.contains(gen) && sts.contains(seen) && sts.at(gen) == sts.at(seen);
}

// The volume of a member that is gone, once the cluster confirmed it holds nothing still needed.
bool delete_redundant_volume(Pass& pass) {
  const std::string prefix = pass.names.data_volume() + "-";
  for (const ObservedPvc& pvc : pass.observed.pvcs) {
    if (pvc.deleting || pvc.name.rfind(prefix, 0) != 0) continue;
    const std::string member = pvc.name.substr(prefix.size());
    std::optional<int> ordinal = pass.names.ordinal_of(member);
    if (!ordinal || *ordinal < pass.statefulset_replicas || pass.find_member(member)) continue;
    if (!pass.observed.share_redundancy_confirmed.count(member)) continue;  // default: keep the share
    change(pass,
           DeleteObject{ObjectRef{"v1", "PersistentVolumeClaim", pass.owner.ns, pvc.name, pvc.uid},
                        "member " + member +
                            " was removed and the cluster confirmed every committed value "
                            "keeps k holders without it"},
           phase::kScalingDown, "DeletingVolume",
           "deleting volume " + pvc.name + " of removed member " + member);
    return true;
  }
  return false;
}

// A member whose volume was lost refuses to start (its pod exits with kMemberDataLostExitCode) instead of
// coming back empty. It is replaced in two passes: remove the old member (its shares are gone anyway, and
// removing it lets the commit quorum follow the voter count), then add it again as a learner under the
// same peer URL, so its pod joins under a new share index on its next start and is repaired; the usual
// learner path then promotes it once Ready. Learners are never removed here: a re-added member's pod
// still shows the old exit code until it restarts.
bool replace_lost_member(Pass& pass) {
  for (const ObservedPod& pod : pass.observed.pods) {
    std::optional<int> ordinal = pass.names.ordinal_of(pod.name);
    if (!ordinal || *ordinal >= pass.spec.replicas || !reports_data_lost(pod) || pass.find_member(pod.name))
      continue;
    change(pass, AddLearner{pod.name, {pass.names.peer_url(*ordinal)}}, phase::kDegraded, "ReaddingMember",
           "adding " + pod.name +
               " again as a learner: its volume was lost; it joins under a new share index and is repaired");
    pass.degrade("MemberDataLost", "member " + pod.name + " lost its volume and is being replaced");
    return true;
  }
  for (const MemberRow& m : pass.members) {
    if (m.learner || !m.id || !m.pod || !reports_data_lost(*m.pod)) continue;
    const std::string message = "member " + m.name + " (" + member_id_to_string(*m.id) +
                                ") refuses to start: its data directory is empty although the cluster "
                                "knew it, so it is removed and added again as a learner";
    change(pass, RemoveMember{*m.id, m.name}, phase::kDegraded, "ReplacingMember", message);
    pass.warn("MemberDataLost", message);
    pass.degrade("MemberDataLost", message);
    return true;
  }
  return false;
}

}  // namespace

void step_orchestrate(Pass& pass) {
  if (pass.blocked) {
    pass.phase = phase::kDegraded;
    pass.set_condition("Progressing", false, "Blocked", "a conflict or missing input stops all changes");
    return;
  }
  const ObservedMemberList& list = pass.observed.member_list;
  if (!pass.formed) {
    pass.phase = phase::kCreating;
    pass.set_condition("Available", false, "Bootstrapping",
                       "the initial members have not formed the cluster yet");
    pass.set_condition("Progressing", true, "Bootstrapping",
                       "waiting for " + std::to_string(pass.bootstrap_members) + " initial members to start");
    pass.request_requeue(RequeueReason::NotReady, kNotReadyWait, "waiting for the initial members");
    return;
  }
  if (!list.available) {
    pass.phase = phase::kDegraded;
    pass.set_condition("Available", false, "MemberListUnavailable",
                       "the member list cannot be read: " + list.error);
    pass.degrade("MemberListUnavailable", "the member list cannot be read: " + list.error);
    pass.set_condition("Progressing", false, "MemberListUnavailable", "no change without the member list");
    pass.request_requeue(RequeueReason::MemberApiUnavailable, kMemberApiRetry, list.error);
    return;
  }

  if (pass.members.empty()) {
    // A member list that names none of our members is not something to act on (it would read as
    // "add every member again").
    pass.phase = phase::kDegraded;
    pass.set_condition("Available", false, "NoKnownMembers",
                       "the member list names none of this cluster's members");
    pass.degrade("NoKnownMembers", "the member list names none of this cluster's members");
    pass.set_condition("Progressing", false, "NoKnownMembers", "no change without known members");
    pass.request_requeue(RequeueReason::MemberApiUnavailable, kMemberApiRetry, "no known members");
    return;
  }

  const int voters = pass.voter_count();
  const int w = effective_commit_quorum(pass.spec, voters);
  const int ready_voters = pass.ready_voter_count();
  if (pass.leader.empty()) {
    pass.set_condition("Available", false, "NoLeader", "the cluster reports no leader");
  } else if (ready_voters < w) {
    pass.set_condition("Available", false, "TooFewReadyMembers",
                       std::to_string(ready_voters) + " Ready voters, commit quorum " + std::to_string(w));
  } else {
    pass.set_condition("Available", true, "QuorumAvailable",
                       std::to_string(ready_voters) + " of " + std::to_string(voters) +
                           " voters Ready, commit quorum " + std::to_string(w));
  }

  std::vector<const MemberRow*> unhealthy;
  for (const MemberRow& m : pass.members) {
    if (!m.ready) unhealthy.push_back(&m);
  }

  if (replace_lost_member(pass)) return;

  // Repair: an unready member still on an old template is restarted onto the current one.
  for (const MemberRow* m : unhealthy) {
    if (m->pod && !m->pod->deleting && m->outdated) {
      change(pass, DeleteObject{pod_ref(pass, *m), "repair: restart onto the current template"},
             phase::kDegraded, "RepairingMember",
             "restarting unready member " + m->name + " onto the current template");
      pass.degrade("MembersNotReady", "not Ready: " + list_names(unhealthy));
      return;
    }
  }

  // Readiness gate.
  if (!unhealthy.empty()) {
    bool only_learners =
        std::all_of(unhealthy.begin(), unhealthy.end(), [](const MemberRow* m) { return m->learner; });
    if (only_learners) {
      pass.phase = phase::kScalingUp;
      pass.set_condition("Progressing", true, "WaitingForLearner",
                         "waiting for learner " + list_names(unhealthy) + " to start and catch up");
    } else {
      pass.phase = phase::kDegraded;
      pass.degrade("MembersNotReady", "not Ready: " + list_names(unhealthy));
      pass.set_condition("Progressing", false, "WaitingForReadiness",
                         "no change while a member is not Ready: " + list_names(unhealthy));
    }
    pass.request_requeue(RequeueReason::NotReady, kNotReadyWait, "not Ready: " + list_names(unhealthy));
    return;
  }

  const int members = static_cast<int>(pass.members.size());
  // Promote a learner that is Ready (caught up); the cluster refuses if it is not, and we retry.
  for (const MemberRow& m : pass.members) {
    if (m.learner && m.id) {
      change(pass, PromoteMember{*m.id, m.name}, phase::kScalingUp, "PromotingMember",
             "promoting learner " + m.name + " to voter");
      return;
    }
  }

  // Remove the highest member while there are more than spec.replicas (the spec keeps replicas >= k).
  if (members > pass.spec.replicas) {
    const MemberRow& victim = pass.members.back();
    if (step_aside_if_leader(pass, victim, phase::kScalingDown, false)) return;
    change(pass, RemoveMember{*victim.id, victim.name}, phase::kScalingDown, "RemovingMember",
           "removing member " + victim.name + " (" + std::to_string(members) + " -> " +
               std::to_string(members - 1) + " members); its volume is kept");
    return;
  }

  if (delete_redundant_volume(pass)) return;

  if (members < pass.spec.replicas) {
    const int ordinal = pass.members.empty() ? 0 : pass.members.back().ordinal + 1;
    const std::string name = pass.names.member(ordinal);
    const std::string pvc = pass.names.member_pvc(ordinal);
    bool stale = std::any_of(pass.observed.pvcs.begin(), pass.observed.pvcs.end(),
                             [&](const ObservedPvc& p) { return p.name == pvc; });
    if (stale) {
      // A new member must start empty under a fresh share index; an old volume would revive a removed
      // member's identity and shares.
      pass.phase = phase::kScalingUp;
      pass.set_condition(
          "Progressing", false, "StaleVolume",
          "cannot add " + name + ": volume " + pvc +
              " of a removed member still exists and the cluster has not confirmed it is redundant");
      pass.request_requeue(RequeueReason::MissingDependency, std::chrono::seconds(60), "stale volume " + pvc);
      return;
    }
    change(pass, AddLearner{name, {pass.names.peer_url(ordinal)}}, phase::kScalingUp, "AddingMember",
           "adding " + name + " as a learner (" + std::to_string(members) + " -> " +
               std::to_string(members + 1) + " members)");
    return;
  }

  if (!statefulset_settled(pass)) {
    pass.phase = phase::kRunning;
    pass.set_condition("Progressing", true, "UpdatingStatefulSet",
                       "waiting for the StatefulSet to take the new spec");
    pass.request_requeue(RequeueReason::ChangeInProgress, kSoon, "StatefulSet not settled");
    return;
  }

  // Restart outdated members one at a time, the leader last (after handing leadership to a current member).
  std::vector<const MemberRow*> outdated;
  for (auto it = pass.members.rbegin(); it != pass.members.rend(); ++it) {
    if (it->outdated && it->pod && !it->pod->deleting) outdated.push_back(&*it);
  }
  if (!outdated.empty()) {
    const MemberRow* victim = nullptr;
    for (const MemberRow* m : outdated) {
      if (m->name != pass.leader) {
        victim = m;
        break;
      }
    }
    if (!victim) {
      victim = outdated.front();
      if (step_aside_if_leader(pass, *victim, phase::kUpgrading, true)) return;
    }
    change(pass, DeleteObject{pod_ref(pass, *victim), "restart onto the current template"}, phase::kUpgrading,
           "RestartingMember", "restarting " + victim->name + " to run version " + pass.version);
    return;
  }

  pass.phase = phase::kRunning;
  pass.set_condition("Progressing", false, "Stable", "every member runs the current spec");
}

}  // namespace etsecd::reconcile::detail
