#include "etsecd/kube/events.h"

#include <chrono>
#include <cstdio>

#include "etsecd/kube/errors.h"

namespace etsecd::kube {
namespace {

// The API server keeps Event messages short; a longer one would be rejected and the event lost.
constexpr std::size_t kMaxMessage = 1024;

std::string cut(const std::string& message) {
  if (message.size() <= kMaxMessage) return message;
  return message.substr(0, kMaxMessage - 3) + "...";
}

}  // namespace

ObjectReference ObjectReference::from_object(const nlohmann::json& object) {
  ObjectReference ref;
  if (!object.is_object()) return ref;
  ref.api_version = object.value("apiVersion", "");
  ref.kind = object.value("kind", "");
  if (object.contains("metadata") && object["metadata"].is_object()) {
    const auto& m = object["metadata"];
    ref.namespace_ = m.value("namespace", "");
    ref.name = m.value("name", "");
    ref.uid = m.value("uid", "");
    ref.resource_version = m.value("resourceVersion", "");
  }
  return ref;
}

nlohmann::json ObjectReference::to_json() const {
  nlohmann::json j = {{"apiVersion", api_version}, {"kind", kind}, {"name", name}};
  if (!namespace_.empty()) j["namespace"] = namespace_;
  if (!uid.empty()) j["uid"] = uid;
  if (!resource_version.empty()) j["resourceVersion"] = resource_version;
  return j;
}

EventRecorder::EventRecorder(EventSink& sink, std::string component, std::string instance, const Clock& clock,
                             std::size_t cache_size)
    : sink_(sink),
      component_(std::move(component)),
      instance_(std::move(instance)),
      clock_(clock),
      cache_size_(cache_size == 0 ? 1 : cache_size) {}

nlohmann::json EventRecorder::new_event(const ObjectReference& involved, EventType type,
                                        const std::string& reason, const std::string& message,
                                        const std::string& name, const std::string& now) const {
  std::string ns = involved.namespace_.empty() ? "default" : involved.namespace_;
  nlohmann::json source = {{"component", component_}};
  if (!instance_.empty()) source["host"] = instance_;
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"involvedObject", involved.to_json()},
          {"reason", reason},
          {"message", cut(message)},
          {"type", type == EventType::kWarning ? "Warning" : "Normal"},
          {"source", source},
          {"reportingComponent", component_},
          {"reportingInstance", instance_},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1}};
}

void EventRecorder::remember(const std::string& key, Seen seen) {
  auto existing = seen_.find(key);
  if (existing != seen_.end()) {
    lru_.erase(existing->second.lru);
    seen_.erase(existing);
  }
  lru_.push_front(key);
  seen.lru = lru_.begin();
  seen_.emplace(key, std::move(seen));
  while (seen_.size() > cache_size_) {
    seen_.erase(lru_.back());
    lru_.pop_back();
  }
}

Status EventRecorder::record(const ObjectReference& involved, EventType type, const std::string& reason,
                             const std::string& message) {
  if (involved.name.empty() || involved.kind.empty()) {
    return make_kube_error(ErrorKind::kBadRequest, "an event needs an involved object with kind and name");
  }
  if (reason.empty()) return make_kube_error(ErrorKind::kBadRequest, "an event needs a reason");
  auto wall = clock_.wall_now();
  std::string now = format_time(wall);
  std::string key = involved.kind + "\x1f" + involved.namespace_ + "\x1f" + involved.name + "\x1f" +
                    involved.uid + "\x1f" + (type == EventType::kWarning ? "W" : "N") + "\x1f" + reason +
                    "\x1f" + cut(message);

  // The lock is held across the API call so that two threads repeating one event cannot both create it.
  std::lock_guard lock(mu_);
  auto seen = seen_.find(key);
  if (seen != seen_.end()) {
    Seen next = seen->second;
    ++next.count;
    nlohmann::json patch = {{"count", next.count}, {"lastTimestamp", now}};
    Result<nlohmann::json> patched = sink_.patch_event(next.namespace_, next.event_name, patch);
    if (patched) {
      remember(key, std::move(next));
      return Status::Ok();
    }
    if (error_kind(patched.error()) != ErrorKind::kNotFound) return patched.error();
    // The Event expired (the API server keeps them for an hour): start a new one.
  }
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  std::string name = involved.name + suffix;
  nlohmann::json event = new_event(involved, type, reason, message, name, now);
  std::string ns = event["metadata"]["namespace"].get<std::string>();
  Result<nlohmann::json> created = sink_.create_event(ns, event);
  if (!created) return created.error();
  remember(key, Seen{name, ns, 1, now, {}});
  return Status::Ok();
}

}  // namespace etsecd::kube
