#pragma once
// The informers the operator watches (per watched namespace, plus cluster-wide Nodes) and the work
// queue they feed: every change to an EtsecdCluster or to something it owns enqueues "ns/name" of
// that EtsecdCluster.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etsecd/kube/client.h"
#include "etsecd/kube/informer.h"
#include "etsecd/kube/work_queue.h"

namespace etsecd::operator_cmd {

// Owned objects, member pods and their PVCs all carry these labels (reconcile/names.h labels()).
inline constexpr const char* kOwnedSelector =
    "app.kubernetes.io/managed-by=etsecd-operator,app.kubernetes.io/name=etsecd";

enum class Kind { kCluster, kStatefulSet, kService, kPodDisruptionBudget, kSecret, kPod, kPvc };

class Caches {
 public:
  // namespaces empty = all namespaces. on_error is called with (resource plural, error).
  Caches(kube::Client& client, std::vector<std::string> namespaces, kube::WorkQueue& queue,
         std::function<void(const std::string&, const Error&)> on_error);
  ~Caches();
  Caches(const Caches&) = delete;
  Caches& operator=(const Caches&) = delete;

  // Starts one thread per informer; they run until stop is signalled and are joined by join().
  void start(kube::StopSignal& stop);
  void join();
  bool wait_for_sync(kube::StopSignal& stop) const;

  // Objects of kind in namespace ns (an unwatched namespace yields nothing).
  std::vector<nlohmann::json> list(Kind kind, const std::string& ns) const;
  std::optional<nlohmann::json> get(Kind kind, const std::string& ns, const std::string& name) const;
  // nullopt until the Node informer has synced (placement checks are then skipped).
  std::optional<std::vector<nlohmann::json>> nodes() const;
  // Every EtsecdCluster key currently cached.
  std::vector<std::string> cluster_keys() const;

 private:
  const kube::Informer* informer(Kind kind, const std::string& ns) const;
  void add(Kind kind, const std::string& ns, kube::Resource resource, std::string label_selector,
           kube::InformerHandlers handlers);

  kube::Client& client_;
  std::vector<std::string> namespaces_;  // {""} for all
  kube::WorkQueue& queue_;
  std::function<void(const std::string&, const Error&)> on_error_;
  std::map<std::pair<Kind, std::string>, std::unique_ptr<kube::Informer>> informers_;
  std::unique_ptr<kube::Informer> nodes_;
  std::vector<std::thread> threads_;
};

}  // namespace etsecd::operator_cmd
