#pragma once
// Gathers what the reconciler needs about one EtsecdCluster: the cluster and its Secrets read fresh
// from the API server (a stale cache must never make the reconciler mint new keys for Secrets that
// exist), the rest from the informer caches, and the member list from the members themselves.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "caches.h"
#include "etsecd/kube/client.h"
#include "etsecd/memberapi/member_api.h"
#include "etsecd/reconcile/observed_state.h"

namespace etsecd::operator_cmd {

struct Observation {
  reconcile::ObservedState state;
  // Connected to the members when their client TLS Secret and pod IPs were known.
  std::unique_ptr<memberapi::MemberApiClient> members;
};

// nullopt (and Ok) when the EtsecdCluster no longer exists.
Result<std::optional<Observation>> observe_cluster(kube::Client& client, const Caches& caches,
                                                   const reconcile::OperatorConfig& config,
                                                   const std::string& ns, const std::string& name,
                                                   std::chrono::milliseconds member_call_timeout);

// Member endpoints: pod IP on the client port, certificate checked against the member's DNS name.
std::vector<memberapi::Endpoint> member_endpoints(const reconcile::ObservedState& state);

}  // namespace etsecd::operator_cmd
