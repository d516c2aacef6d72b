#include "etsecd/kube/informer.h"

#include "etsecd/kube/errors.h"
#include "etsecd/kube/reflector.h"
#include "etsecd/kube/work_queue.h"

namespace etsecd::kube {
namespace {

// List items come without apiVersion/kind; cached objects carry them so that handlers can build owner
// references and events from any cached object.
void fill_type(nlohmann::json& item, const nlohmann::json& list) {
  if (!item.contains("apiVersion") && list.contains("apiVersion")) item["apiVersion"] = list["apiVersion"];
  if (!item.contains("kind") && list.contains("kind") && list["kind"].is_string()) {
    std::string kind = list["kind"].get<std::string>();
    if (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0)
      item["kind"] = kind.substr(0, kind.size() - 4);
  }
}

}  // namespace

Informer::Informer(std::shared_ptr<ListerWatcher> source, InformerOptions options, InformerHandlers handlers)
    : source_(std::move(source)), options_(std::move(options)), handlers_(std::move(handlers)) {}

void Informer::run(StopSignal& stop) {
  ReflectorState state(options_.backoff, options_.seed);
  auto report = [this](const Error& e) {
    if (options_.on_error) options_.on_error(e);
  };
  while (!stop.stopped()) {
    ReflectorAction action = state.next();
    if (action.delay.count() > 0 && stop.wait_for(action.delay)) break;
    if (action.kind == ReflectorAction::Kind::kList) {
      std::string rv;
      Status listed = list_into_cache(stop, &rv);
      if (stop.stopped()) break;
      if (listed) {
        state.on_list_succeeded(rv);
      } else {
        report(listed.error());
        state.on_list_failed(listed.error());
      }
      continue;
    }
    WatchOptions watch;
    watch.label_selector = options_.label_selector;
    watch.field_selector = options_.field_selector;
    watch.resource_version = action.resource_version;
    watch.allow_bookmarks = true;
    watch.timeout_seconds = options_.watch_timeout_seconds;
    auto started = std::chrono::steady_clock::now();
    Status watched = source_->watch(
        watch,
        [&](const WatchEvent& event) {
          if (!state.on_event(event)) {
            report(error_from_status_object(event.object.dump()));
            return false;
          }
          apply_event(event);
          return true;
        },
        stop);
    if (stop.stopped()) break;
    if (!watched) report(watched.error());
    state.on_watch_ended(watched, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - started));
    std::lock_guard lock(mu_);
    relists_ = state.relists();
  }
}

Status Informer::list_into_cache(StopSignal& stop, std::string* resource_version) {
  std::map<std::string, nlohmann::json> fresh;
  ListOptions options;
  options.label_selector = options_.label_selector;
  options.field_selector = options_.field_selector;
  options.limit = options_.page_size;
  std::string snapshot_rv;
  do {
    if (stop.stopped()) return make_kube_error(ErrorKind::kCancelled, "stopped while listing");
    Result<nlohmann::json> page = source_->list(options);
    if (!page) return page.error();
    if (!page->is_object() || !page->contains("items") || !(*page)["items"].is_array()) {
      return make_kube_error(ErrorKind::kDecode, "list response has no items array");
    }
    for (auto& item : (*page)["items"]) {
      fill_type(item, *page);
      std::string key = object_key(item);
      if (!key.empty()) fresh[key] = std::move(item);
    }
    const nlohmann::json& metadata =
        page->contains("metadata") ? (*page)["metadata"] : nlohmann::json::object();
    // Every page of one paginated list is served from the first page's snapshot.
    if (snapshot_rv.empty()) snapshot_rv = metadata.value("resourceVersion", "");
    options.continue_token = metadata.value("continue", "");
  } while (!options.continue_token.empty());
  if (snapshot_rv.empty()) return make_kube_error(ErrorKind::kDecode, "list response has no resourceVersion");

  std::vector<nlohmann::json> added, deleted;
  std::vector<std::pair<nlohmann::json, nlohmann::json>> updated;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, object] : fresh) {
      auto old = cache_.find(key);
      if (old == cache_.end()) {
        added.push_back(object);
      } else if (resource_version_of(old->second) != resource_version_of(object)) {
        updated.emplace_back(old->second, object);
      }
    }
    for (const auto& [key, object] : cache_) {
      if (fresh.count(key) == 0) deleted.push_back(object);  // deleted while we were not watching
    }
    cache_ = std::move(fresh);
    resource_version_ = snapshot_rv;
  }
  for (const auto& o : added) {
    if (handlers_.on_add) handlers_.on_add(o);
  }
  for (const auto& [o, n] : updated) {
    if (handlers_.on_update) handlers_.on_update(o, n);
  }
  for (const auto& o : deleted) {
    if (handlers_.on_delete) handlers_.on_delete(o);
  }
  // Synced only once the handlers have seen the first list, so that a controller that waits for sync
  // and then drains its queue does not race with the initial adds.
  {
    std::lock_guard lock(mu_);
    synced_ = true;
  }
  synced_cv_.notify_all();
  *resource_version = snapshot_rv;
  return Status::Ok();
}

void Informer::apply_event(const WatchEvent& event) {
  std::string rv = resource_version_of(event.object);
  if (event.type == WatchEventType::kBookmark) {
    std::lock_guard lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    return;
  }
  std::string key = object_key(event.object);
  if (key.empty()) return;
  std::optional<nlohmann::json> old;
  {
    std::lock_guard lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    auto it = cache_.find(key);
    if (it != cache_.end()) old = it->second;
    if (event.type == WatchEventType::kDeleted) {
      if (it != cache_.end()) cache_.erase(it);
    } else {
      cache_[key] = event.object;
    }
  }
  if (event.type == WatchEventType::kDeleted) {
    if (handlers_.on_delete) handlers_.on_delete(event.object);
  } else if (old) {
    if (handlers_.on_update) handlers_.on_update(*old, event.object);
  } else if (handlers_.on_add) {
    handlers_.on_add(event.object);
  }
}

bool Informer::has_synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::wait_for_sync(StopSignal& stop) const {
  std::unique_lock lock(mu_);
  while (!synced_) {
    if (stop.stopped()) return false;
    synced_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return true;
}

std::optional<nlohmann::json> Informer::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> Informer::list() const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  out.reserve(cache_.size());
  for (const auto& [key, object] : cache_) out.push_back(object);
  return out;
}

std::size_t Informer::size() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

std::string Informer::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

int Informer::relists() const {
  std::lock_guard lock(mu_);
  return relists_;
}

std::optional<std::string> controller_owner_key(const nlohmann::json& object, const std::string& owner_kind) {
  if (!object.is_object() || !object.contains("metadata")) return std::nullopt;
  const auto& metadata = object["metadata"];
  if (!metadata.is_object() || !metadata.contains("ownerReferences") ||
      !metadata["ownerReferences"].is_array()) {
    return std::nullopt;
  }
  std::string ns = metadata.value("namespace", "");
  for (const auto& ref : metadata["ownerReferences"]) {
    if (!ref.is_object() || !ref.value("controller", false) || ref.value("kind", "") != owner_kind) continue;
    std::string name = ref.value("name", "");
    if (name.empty()) continue;
    return ns.empty() ? name : ns + "/" + name;
  }
  return std::nullopt;
}

InformerHandlers enqueue_object_key(WorkQueue& queue) {
  InformerHandlers h;
  h.on_add = [&queue](const nlohmann::json& o) { queue.add(object_key(o)); };
  h.on_update = [&queue](const nlohmann::json&, const nlohmann::json& n) { queue.add(object_key(n)); };
  h.on_delete = [&queue](const nlohmann::json& o) { queue.add(object_key(o)); };
  return h;
}

InformerHandlers enqueue_controller_key(WorkQueue& queue, const std::string& owner_kind) {
  auto enqueue = [&queue, owner_kind](const nlohmann::json& o) {
    if (auto key = controller_owner_key(o, owner_kind)) queue.add(*key);
  };
  InformerHandlers h;
  h.on_add = enqueue;
  h.on_update = [enqueue](const nlohmann::json& o, const nlohmann::json& n) {
    enqueue(o);  // an owner change must wake the old owner too
    enqueue(n);
  };
  h.on_delete = enqueue;
  return h;
}

}  // namespace etsecd::kube
