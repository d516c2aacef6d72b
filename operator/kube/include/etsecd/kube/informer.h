#pragma once
// list+watch of one resource into a local cache, with callbacks on changes; the reconciler's queue is
// fed from those callbacks and reads the cache (level-based: it always acts on the latest state).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/kube/backoff.h"
#include "etsecd/kube/lister_watcher.h"
#include "etsecd/kube/stop_signal.h"

namespace etsecd::kube {

class WorkQueue;

struct InformerHandlers {
  std::function<void(const nlohmann::json& object)> on_add;
  std::function<void(const nlohmann::json& old_object, const nlohmann::json& new_object)> on_update;
  std::function<void(const nlohmann::json& object)> on_delete;
};

struct InformerOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t page_size = 500;
  int watch_timeout_seconds = 300;
  BackoffPolicy backoff;
  std::uint64_t seed = std::random_device{}();
  // Called with each list/watch error (for logs and metrics); the informer retries by itself.
  std::function<void(const Error&)> on_error;
};

class Informer {
 public:
  Informer(std::shared_ptr<ListerWatcher> source, InformerOptions options, InformerHandlers handlers);

  // Lists and watches until stop is signalled. Handlers run on this thread, without the cache lock.
  void run(StopSignal& stop);

  // True once the first full list is in the cache and its handlers have run.
  bool has_synced() const;
  // Blocks until synced or stopped; returns has_synced().
  bool wait_for_sync(StopSignal& stop) const;
  std::optional<nlohmann::json> get(const std::string& key) const;  // key: "ns/name" or "name"
  std::vector<nlohmann::json> list() const;
  std::size_t size() const;
  std::string resource_version() const;
  int relists() const;

 private:
  Status list_into_cache(StopSignal& stop, std::string* resource_version);
  void apply_event(const WatchEvent& event);

  std::shared_ptr<ListerWatcher> source_;
  InformerOptions options_;
  InformerHandlers handlers_;
  mutable std::mutex mu_;
  mutable std::condition_variable synced_cv_;
  std::map<std::string, nlohmann::json> cache_;
  bool synced_ = false;
  std::string resource_version_;
  int relists_ = 0;
};

// Handlers that enqueue the object's own key.
InformerHandlers enqueue_object_key(WorkQueue& queue);
// Handlers that enqueue the key of the object's controller owner of the given kind (for owned objects
// such as the StatefulSet of an EtsecdCluster).
InformerHandlers enqueue_controller_key(WorkQueue& queue, const std::string& owner_kind);
// The "ns/name" key of object's controller ownerReference of owner_kind, if any.
std::optional<std::string> controller_owner_key(const nlohmann::json& object, const std::string& owner_kind);

}  // namespace etsecd::kube
