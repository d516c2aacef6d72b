#pragma once
// The HTTP client plugged into the pure parts: informer source, Lease store, Event sink.

#include <memory>
#include <string>

#include "etsecd/kube/client.h"
#include "etsecd/kube/events.h"
#include "etsecd/kube/leader_election.h"
#include "etsecd/kube/lister_watcher.h"

namespace etsecd::kube {

class ClientListerWatcher final : public ListerWatcher {
 public:
  // ns "" = all namespaces (or a cluster-scoped resource).
  ClientListerWatcher(Client& client, Resource resource, std::string ns);
  Result<nlohmann::json> list(const ListOptions& options) override;
  Status watch(const WatchOptions& options, const std::function<bool(const WatchEvent&)>& on_event,
               StopSignal& stop) override;

 private:
  Client& client_;
  Resource resource_;
  std::string ns_;
};

class ClientLeaseStore final : public LeaseStore {
 public:
  ClientLeaseStore(Client& client, std::string ns, std::string name);
  Result<std::optional<ObservedLease>> get() override;
  Result<ObservedLease> create(const LeaseRecord& record) override;
  Result<ObservedLease> update(const LeaseRecord& record, const std::string& resource_version) override;

 private:
  Client& client_;
  std::string ns_;
  std::string name_;
};

class ClientEventSink final : public EventSink {
 public:
  explicit ClientEventSink(Client& client);
  Result<nlohmann::json> create_event(const std::string& ns, const nlohmann::json& event) override;
  Result<nlohmann::json> patch_event(const std::string& ns, const std::string& name,
                                     const nlohmann::json& merge_patch) override;

 private:
  Client& client_;
};

}  // namespace etsecd::kube
