// Step 7: the status, written only when it changed, and an Event whenever a problem condition starts
// (Degraded, ZoneLeakRisk) or ends.
#include "pass.h"

namespace etsecd::reconcile::detail {

using nlohmann::json;

namespace {

constexpr const char* kConditionTypes[] = {"Available", "Progressing", "Degraded", "ZoneLeakRisk"};

const json* previous_condition(const Pass& pass, const std::string& type) {
  if (!pass.previous_status.contains("conditions") || !pass.previous_status["conditions"].is_array())
    return nullptr;
  for (const json& c : pass.previous_status["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

std::string member_phase(const Pass& pass, const MemberRow& m) {
  if (!pass.formed) return m.ready ? "Started" : "Bootstrapping";
  if (m.learner) return m.ready ? "Learner" : "Joining";
  return m.ready ? "Running" : "NotReady";
}

json member_status(const Pass& pass, const MemberRow& m) {
  json j = {{"name", m.name}, {"ready", m.ready}, {"phase", member_phase(pass, m)}};
  if (m.id) j["memberID"] = member_id_to_string(*m.id);
  if (m.share_index) j["shareIndex"] = *m.share_index;
  if (m.learner)
    j["role"] = "learner";
  else if (!pass.leader.empty())
    j["role"] = m.name == pass.leader ? "leader" : "follower";
  if (!m.zone.empty()) j["zone"] = m.zone;
  if (!m.node.empty()) j["node"] = m.node;
  if (!m.version.empty()) j["version"] = m.version;
  return j;
}

std::string members_version(const Pass& pass) {
  std::string version;
  for (const MemberRow& m : pass.members) {
    if (m.version.empty()) continue;
    if (version.empty())
      version = m.version;
    else if (version != m.version)
      return "mixed";
  }
  return version.empty() ? pass.version : version;
}

json condition_json(const Pass& pass, const std::string& type) {
  auto it = pass.conditions.find(type);
  const json* previous = previous_condition(pass, type);
  if (it == pass.conditions.end()) {
    // Not evaluated this pass (the pass stopped early): keep what we knew.
    if (previous) return *previous;
    return json{{"type", type},
                {"status", "Unknown"},
                {"reason", "NotEvaluated"},
                {"message", "not evaluated yet"},
                {"observedGeneration", pass.generation},
                {"lastTransitionTime", format_time(pass.now)}};
  }
  const std::string status = it->second.status ? "True" : "False";
  std::string since = format_time(pass.now);
  if (previous && previous->value("status", "") == status && previous->contains("lastTransitionTime")) {
    since = previous->value("lastTransitionTime", since);
  }
  return json{{"type", type},
              {"status", status},
              {"reason", it->second.reason},
              {"message", it->second.message},
              {"observedGeneration", pass.generation},
              {"lastTransitionTime", since}};
}

void emit_condition_events(Pass& pass, Plan& plan) {
  for (const char* type : {"Degraded", "ZoneLeakRisk"}) {
    auto it = pass.conditions.find(type);
    if (it == pass.conditions.end()) continue;
    const json* previous = previous_condition(pass, type);
    const bool was_true = previous && previous->value("status", "") == "True";
    const std::string previous_reason = previous ? previous->value("reason", "") : "";
    const ConditionState& now = it->second;
    if (now.status && (!was_true || previous_reason != now.reason)) {
      plan.actions.emplace_back(EmitEvent{"Warning", now.reason, now.message, pass.cluster_ref()});
    } else if (!now.status && was_true) {
      plan.actions.emplace_back(
          EmitEvent{"Normal", std::string(type) + "Resolved", now.message, pass.cluster_ref()});
    }
  }
}

}  // namespace

void step_status(Pass& pass, Plan& plan) {
  if (pass.conditions.find("Degraded") == pass.conditions.end() && pass.phase != phase::kInvalid &&
      !pass.phase.empty()) {
    pass.set_condition("Degraded", false, "Healthy", "no problem found");
  }
  emit_condition_events(pass, plan);

  json status;
  if (pass.phase == phase::kInvalid) {
    // Nothing was evaluated: keep the last known picture of the cluster, but say why nothing moves.
    status = pass.previous_status;
  } else {
    int voters = pass.voter_count() > 0 ? pass.voter_count() : pass.bootstrap_members;
    int w = effective_commit_quorum(pass.spec, voters);
    FaultTolerance ft = fault_tolerance(voters, w, pass.spec.threshold);
    int ready = 0;
    json members = json::array();
    for (const MemberRow& m : pass.members) {
      ready += m.ready ? 1 : 0;
      members.push_back(member_status(pass, m));
    }
    status = json{{"replicas", static_cast<int>(pass.members.size())},
                  {"readyReplicas", ready},
                  {"selector", pass.names.selector_string()},
                  {"version", members_version(pass)},
                  {"threshold", pass.spec.threshold},
                  {"commitQuorum", w},
                  {"bootstrapMembers", pass.bootstrap_members},
                  {"faultTolerance",
                   {{"writes", ft.writes},
                    {"readsAfterCommit", ft.reads_after_commit},
                    {"readsFullyReplicated", ft.reads_fully_replicated}}},
                  {"members", members}};
    if (!pass.leader.empty()) status["leader"] = pass.leader;
  }
  status["observedGeneration"] = pass.generation;
  status["phase"] = pass.phase;
  json conditions = json::array();
  for (const char* type : kConditionTypes) conditions.push_back(condition_json(pass, type));
  status["conditions"] = conditions;

  if (status != pass.previous_status) plan.actions.emplace_back(UpdateStatus{status});
}

}  // namespace etsecd::reconcile::detail
