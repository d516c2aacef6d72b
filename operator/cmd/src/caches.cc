#include "caches.h"

#include "etsecd/kube/client_adapters.h"
#include "etsecd/kube/resource.h"

namespace etsecd::operator_cmd {
namespace {

using nlohmann::json;

// Member pods and PVCs are owned by the StatefulSet (or by nobody), so their EtsecdCluster is found
// through the instance label.
kube::InformerHandlers enqueue_instance_key(kube::WorkQueue& queue) {
  auto enqueue = [&queue](const json& object) {
    const json& meta = object.value("metadata", json::object());
    const json& labels = meta.value("labels", json::object());
    auto it = labels.find("app.kubernetes.io/instance");
    if (it == labels.end() || !it->is_string()) return;
    queue.add(meta.value("namespace", "") + "/" + it->get<std::string>());
  };
  kube::InformerHandlers h;
  h.on_add = enqueue;
  h.on_update = [enqueue](const json&, const json& now) { enqueue(now); };
  h.on_delete = enqueue;
  return h;
}

}  // namespace

Caches::Caches(kube::Client& client, std::vector<std::string> namespaces, kube::WorkQueue& queue,
               std::function<void(const std::string&, const Error&)> on_error)
    : client_(client), namespaces_(std::move(namespaces)), queue_(queue), on_error_(std::move(on_error)) {
  if (namespaces_.empty()) namespaces_.push_back("");
  for (const std::string& ns : namespaces_) {
    add(Kind::kCluster, ns, kube::resources::etsecd_clusters(), "", kube::enqueue_object_key(queue_));
    auto owned = kube::enqueue_controller_key(queue_, "EtsecdCluster");
    add(Kind::kStatefulSet, ns, kube::resources::stateful_sets(), kOwnedSelector, owned);
    add(Kind::kService, ns, kube::resources::services(), kOwnedSelector, owned);
    add(Kind::kPodDisruptionBudget, ns, kube::resources::pod_disruption_budgets(), kOwnedSelector, owned);
    add(Kind::kSecret, ns, kube::resources::secrets(), kOwnedSelector, owned);
    add(Kind::kPod, ns, kube::resources::pods(), kOwnedSelector, enqueue_instance_key(queue_));
    add(Kind::kPvc, ns, kube::resources::persistent_volume_claims(), kOwnedSelector,
        enqueue_instance_key(queue_));
  }
  // A node's zone label or schedulability matters to every cluster's placement checks; its heartbeats
  // do not.
  auto enqueue_all = [this] {
    for (const std::string& key : cluster_keys()) queue_.add(key);
  };
  auto placement_view = [](const json& node) {
    json meta = node.value("metadata", json::object());
    return json{{"labels", meta.value("labels", json::object())},
                {"unschedulable", node.value("spec", json::object()).value("unschedulable", false)}};
  };
  kube::InformerHandlers node_handlers;
  node_handlers.on_add = [enqueue_all](const json&) { enqueue_all(); };
  node_handlers.on_delete = [enqueue_all](const json&) { enqueue_all(); };
  node_handlers.on_update = [enqueue_all, placement_view](const json& before, const json& after) {
    if (placement_view(before) != placement_view(after)) enqueue_all();
  };
  kube::InformerOptions options;
  options.on_error = [this](const Error& e) { on_error_("nodes", e); };
  nodes_ = std::make_unique<kube::Informer>(
      std::make_shared<kube::ClientListerWatcher>(client_, kube::resources::nodes(), ""), options,
      node_handlers);
}

Caches::~Caches() { join(); }

void Caches::add(Kind kind, const std::string& ns, kube::Resource resource, std::string label_selector,
                 kube::InformerHandlers handlers) {
  kube::InformerOptions options;
  options.label_selector = std::move(label_selector);
  std::string plural = resource.plural;
  options.on_error = [this, plural](const Error& e) { on_error_(plural, e); };
  auto source = std::make_shared<kube::ClientListerWatcher>(client_, std::move(resource), ns);
  informers_[{kind, ns}] = std::make_unique<kube::Informer>(source, options, std::move(handlers));
}

void Caches::start(kube::StopSignal& stop) {
  for (auto& [key, inf] : informers_) {
    kube::Informer* p = inf.get();
    threads_.emplace_back([p, &stop] { p->run(stop); });
  }
  kube::Informer* n = nodes_.get();
  threads_.emplace_back([n, &stop] { n->run(stop); });
}

void Caches::join() {
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool Caches::wait_for_sync(kube::StopSignal& stop) const {
  for (const auto& [key, inf] : informers_) {
    if (!inf->wait_for_sync(stop)) return false;
  }
  // Nodes are optional (nodes() is nullopt until synced): a cluster without node RBAC still works.
  return true;
}

const kube::Informer* Caches::informer(Kind kind, const std::string& ns) const {
  auto it = informers_.find({kind, ns});
  if (it == informers_.end()) it = informers_.find({kind, ""});
  return it == informers_.end() ? nullptr : it->second.get();
}

std::vector<nlohmann::json> Caches::list(Kind kind, const std::string& ns) const {
  const kube::Informer* inf = informer(kind, ns);
  if (!inf) return {};
  std::vector<json> out;
  for (json& object : inf->list()) {
    if (object.value("metadata", json::object()).value("namespace", "") == ns)
      out.push_back(std::move(object));
  }
  return out;
}

std::optional<nlohmann::json> Caches::get(Kind kind, const std::string& ns, const std::string& name) const {
  const kube::Informer* inf = informer(kind, ns);
  if (!inf) return std::nullopt;
  return inf->get(ns + "/" + name);
}

std::optional<std::vector<nlohmann::json>> Caches::nodes() const {
  if (!nodes_->has_synced()) return std::nullopt;
  return nodes_->list();
}

std::vector<std::string> Caches::cluster_keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, inf] : informers_) {
    if (key.first != Kind::kCluster) continue;
    for (const json& c : inf->list()) {
      const json& meta = c.value("metadata", json::object());
      keys.push_back(meta.value("namespace", "") + "/" + meta.value("name", ""));
    }
  }
  return keys;
}

}  // namespace etsecd::operator_cmd
