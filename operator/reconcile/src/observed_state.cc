// Kubernetes JSON -> the reconciler's observation records.
#include "etsecd/reconcile/observed_state.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "base64.h"

namespace etsecd::reconcile {

using nlohmann::json;

namespace {
std::string string_at(const json& j, const json::json_pointer& p) {
  if (!j.contains(p)) return {};
  const json& v = j.at(p);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string controller_uid(const json& object) {
  const json::json_pointer p("/metadata/ownerReferences");
  if (!object.contains(p) || !object.at(p).is_array()) return {};
  for (const json& ref : object.at(p)) {
    if (ref.value("controller", false)) return ref.value("uid", "");
  }
  return {};
}
}  // namespace

ObservedPod observe_pod(const json& pod) {
  ObservedPod p;
  p.name = string_at(pod, json::json_pointer("/metadata/name"));
  p.uid = string_at(pod, json::json_pointer("/metadata/uid"));
  p.node_name = string_at(pod, json::json_pointer("/spec/nodeName"));
  p.ip = string_at(pod, json::json_pointer("/status/podIP"));
  p.phase = string_at(pod, json::json_pointer("/status/phase"));
  p.deleting = pod.contains(json::json_pointer("/metadata/deletionTimestamp")) &&
               !pod.at(json::json_pointer("/metadata/deletionTimestamp")).is_null();
  p.revision = string_at(pod, json::json_pointer("/metadata/labels/controller-revision-hash"));
  p.version = string_at(pod, json::json_pointer("/metadata/annotations/etsecd.io~1version"));
  const json::json_pointer conditions("/status/conditions");
  if (pod.contains(conditions) && pod.at(conditions).is_array()) {
    for (const json& c : pod.at(conditions)) {
      if (c.value("type", "") == "Ready") p.ready = c.value("status", "") == "True";
    }
  }
  const json::json_pointer statuses("/status/containerStatuses");
  if (pod.contains(statuses) && pod.at(statuses).is_array() && !pod.at(statuses).empty()) {
    const json& c = pod.at(statuses).front();  // member pods run one container
    const json::json_pointer now_running("/state/running"), now_exit("/state/terminated/exitCode"),
        last_exit("/lastState/terminated/exitCode");
    p.running = c.contains(now_running) && c.at(now_running).is_object();
    if (c.contains(now_exit) && c.at(now_exit).is_number_integer()) {
      p.exit_code = c.at(now_exit).get<int>();
    } else if (c.contains(last_exit) && c.at(last_exit).is_number_integer()) {
      p.exit_code = c.at(last_exit).get<int>();
    }
  }
  return p;
}

bool reports_data_lost(const ObservedPod& pod) {
  return !pod.ready && !pod.deleting && pod.exit_code == kMemberDataLostExitCode;
}

ObservedSecret observe_secret(const json& secret) {
  ObservedSecret s;
  s.name = string_at(secret, json::json_pointer("/metadata/name"));
  s.controller_uid = controller_uid(secret);
  if (auto it = secret.find("data"); it != secret.end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) continue;
      if (auto decoded = detail::base64_decode(value.get<std::string>())) s.data[key] = std::move(*decoded);
    }
  }
  return s;
}

ObservedPvc observe_pvc(const json& pvc) {
  ObservedPvc p;
  p.name = string_at(pvc, json::json_pointer("/metadata/name"));
  p.uid = string_at(pvc, json::json_pointer("/metadata/uid"));
  p.phase = string_at(pvc, json::json_pointer("/status/phase"));
  p.deleting = pvc.contains(json::json_pointer("/metadata/deletionTimestamp")) &&
               !pvc.at(json::json_pointer("/metadata/deletionTimestamp")).is_null();
  return p;
}

ObservedNode observe_node(const json& node) {
  ObservedNode n;
  n.name = string_at(node, json::json_pointer("/metadata/name"));
  const json::json_pointer labels("/metadata/labels");
  if (node.contains(labels) && node.at(labels).is_object()) {
    for (const auto& [k, v] : node.at(labels).items()) {
      if (v.is_string()) n.labels[k] = v.get<std::string>();
    }
  }
  const json::json_pointer unschedulable("/spec/unschedulable");
  n.unschedulable = node.contains(unschedulable) && node.at(unschedulable).is_boolean() &&
                    node.at(unschedulable).get<bool>();
  return n;
}

std::string member_id_to_string(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::optional<std::uint64_t> member_id_from_string(const std::string& hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  char* end = nullptr;
  unsigned long long v = std::strtoull(hex.c_str(), &end, 16);
  if (end != hex.c_str() + hex.size()) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

}  // namespace etsecd::reconcile
