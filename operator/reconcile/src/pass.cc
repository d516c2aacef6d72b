// Pass bookkeeping: requeue merging, conditions, events.
#include "pass.h"

#include <ctime>

namespace etsecd::reconcile::detail {

using nlohmann::json;

namespace {
std::string string_at(const json& j, const char* pointer) {
  json::json_pointer p(pointer);
  return j.contains(p) && j.at(p).is_string() ? j.at(p).get<std::string>() : std::string();
}
}  // namespace

Pass::Pass(const ObservedState& o, TimePoint t)
    : observed(o),
      now(t),
      owner{string_at(o.cluster, "/metadata/name"), string_at(o.cluster, "/metadata/namespace"),
            string_at(o.cluster, "/metadata/uid")},
      names(owner.name, owner.ns, o.config.cluster_domain) {
  json::json_pointer gen("/metadata/generation");
  if (o.cluster.contains(gen) && o.cluster.at(gen).is_number_integer()) generation = o.cluster.at(gen);
  if (o.cluster.contains("status") && o.cluster["status"].is_object())
    previous_status = o.cluster["status"];
  else
    previous_status = json::object();
}

void Pass::request_requeue(RequeueReason reason, std::optional<std::chrono::seconds> after,
                           std::string message) {
  bool sooner = !requeue || (after && (!requeue->after || *after < *requeue->after));
  if (sooner) requeue = Requeue{reason, after, std::move(message)};
}

void Pass::set_condition(const std::string& type, bool status, std::string reason, std::string message) {
  conditions[type] = ConditionState{status, std::move(reason), std::move(message)};
}

void Pass::degrade(std::string reason, std::string message) {
  auto it = conditions.find("Degraded");
  if (it != conditions.end() && it->second.status) return;
  set_condition("Degraded", true, std::move(reason), std::move(message));
}

ObjectRef Pass::cluster_ref() const {
  return ObjectRef{std::string(kApiVersion), std::string(kKind), owner.ns, owner.name, owner.uid};
}

void Pass::warn(std::string reason, std::string message) {
  events.push_back(EmitEvent{"Warning", std::move(reason), std::move(message), cluster_ref()});
}

void Pass::note(std::string reason, std::string message) {
  events.push_back(EmitEvent{"Normal", std::move(reason), std::move(message), cluster_ref()});
}

const MemberRow* Pass::find_member(const std::string& name) const {
  for (const MemberRow& m : members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

int Pass::voter_count() const {
  int n = 0;
  for (const MemberRow& m : members) n += (m.in_member_list && !m.learner) ? 1 : 0;
  return n;
}

int Pass::ready_voter_count() const {
  int n = 0;
  for (const MemberRow& m : members) n += (m.in_member_list && !m.learner && m.ready) ? 1 : 0;
  return n;
}

std::string format_time(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace etsecd::reconcile::detail
