#pragma once
// core/v1 Events about the objects the operator manages (what kubectl describe shows). Repeats of the
// same event (same object, type, reason and message) bump count and lastTimestamp on the existing
// Event instead of creating a new one, like client-go's event correlator.

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/kube/clock.h"

namespace etsecd::kube {

struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;

  // From an object's apiVersion, kind and metadata.
  static ObjectReference from_object(const nlohmann::json& object);
  nlohmann::json to_json() const;
};

enum class EventType { kNormal, kWarning };

// Where events go: the API (client_adapters.h) or a test's recorder.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual Result<nlohmann::json> create_event(const std::string& ns, const nlohmann::json& event) = 0;
  // JSON merge patch of an existing Event.
  virtual Result<nlohmann::json> patch_event(const std::string& ns, const std::string& name,
                                             const nlohmann::json& merge_patch) = 0;
};

class EventRecorder {
 public:
  // component: source.component and reportingComponent ("etsecd-operator"); instance: the pod name.
  EventRecorder(EventSink& sink, std::string component, std::string instance,
                const Clock& clock = system_clock(), std::size_t cache_size = 4096);

  Status record(const ObjectReference& involved, EventType type, const std::string& reason,
                const std::string& message);

 private:
  struct Seen {
    std::string event_name;
    std::string namespace_;
    int count = 0;
    std::string first_timestamp;
    std::list<std::string>::iterator lru;
  };

  nlohmann::json new_event(const ObjectReference& involved, EventType type, const std::string& reason,
                           const std::string& message, const std::string& name, const std::string& now) const;
  void remember(const std::string& key, Seen seen);

  EventSink& sink_;
  std::string component_;
  std::string instance_;
  const Clock& clock_;
  std::size_t cache_size_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace etsecd::kube
