#include "etsecd/kube/client_adapters.h"

#include "etsecd/kube/errors.h"

namespace etsecd::kube {

ClientListerWatcher::ClientListerWatcher(Client& client, Resource resource, std::string ns)
    : client_(client), resource_(std::move(resource)), ns_(std::move(ns)) {}

Result<nlohmann::json> ClientListerWatcher::list(const ListOptions& options) {
  return client_.list(resource_, ns_, options);
}

Status ClientListerWatcher::watch(const WatchOptions& options,
                                  const std::function<bool(const WatchEvent&)>& on_event, StopSignal& stop) {
  return client_.watch(resource_, ns_, options, on_event, &stop);
}

ClientLeaseStore::ClientLeaseStore(Client& client, std::string ns, std::string name)
    : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

Result<std::optional<ObservedLease>> ClientLeaseStore::get() {
  Result<nlohmann::json> lease = client_.get(resources::leases(), ns_, name_);
  if (!lease) {
    if (error_kind(lease.error()) == ErrorKind::kNotFound) return std::optional<ObservedLease>();
    return lease.error();
  }
  Result<ObservedLease> observed = observed_lease_from_json(*lease);
  if (!observed) return observed.error();
  return std::optional<ObservedLease>(std::move(*observed));
}

Result<ObservedLease> ClientLeaseStore::create(const LeaseRecord& record) {
  nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", name_}, {"namespace", ns_}}},
                          {"spec", lease_spec_json(record)}};
  Result<nlohmann::json> created = client_.create(resources::leases(), ns_, lease);
  if (!created) return created.error();
  return observed_lease_from_json(*created);
}

Result<ObservedLease> ClientLeaseStore::update(const LeaseRecord& record,
                                               const std::string& resource_version) {
  // A PUT carrying the resourceVersion we read: the API server refuses it (409) if anyone wrote since.
  nlohmann::json lease = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", {{"name", name_}, {"namespace", ns_}, {"resourceVersion", resource_version}}},
      {"spec", lease_spec_json(record)}};
  Result<nlohmann::json> updated = client_.replace(resources::leases(), ns_, lease);
  if (!updated) return updated.error();
  return observed_lease_from_json(*updated);
}

ClientEventSink::ClientEventSink(Client& client) : client_(client) {}

Result<nlohmann::json> ClientEventSink::create_event(const std::string& ns, const nlohmann::json& event) {
  return client_.create(resources::events(), ns, event);
}

Result<nlohmann::json> ClientEventSink::patch_event(const std::string& ns, const std::string& name,
                                                    const nlohmann::json& merge_patch) {
  return client_.patch(resources::events(), ns, name, PatchType::kMerge, merge_patch);
}

}  // namespace etsecd::kube
