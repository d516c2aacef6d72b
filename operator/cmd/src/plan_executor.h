#pragma once
// Carries out a reconcile Plan: objects through the Kubernetes API (server-side apply with the
// reconciler's field manager, deletes with uid preconditions, the status subresource, Events) and
// membership changes through the members' API. Actions run in order; the first failure stops the rest.
#include <functional>
#include <nlohmann/json.hpp>

#include "etsecd/kube/client.h"
#include "etsecd/kube/events.h"
#include "etsecd/log/logger.h"
#include "etsecd/memberapi/member_api.h"
#include "etsecd/reconcile/plan.h"

namespace etsecd::operator_cmd {

struct ExecutionContext {
  kube::Client& client;
  kube::EventRecorder& events;
  memberapi::MemberApiClient* members;  // null when the members could not be reached
  const nlohmann::json& cluster;        // the EtsecdCluster as read for this pass
  std::function<bool()> may_act;        // false once this replica must stop acting (lost the lease)
  const log::Logger& logger;
};

// Number of actions carried out; on failure the error of the failing action (code from kube.* or
// memberapi.*, or "operator.not_leader").
struct ExecutionResult {
  std::size_t done = 0;
  Status status;
};

ExecutionResult execute_plan(const reconcile::Plan& plan, const ExecutionContext& ctx);

// The API resource for a manifest's apiVersion/kind, for the kinds the reconciler writes.
Result<kube::Resource> resource_for(const std::string& api_version, const std::string& kind);

}  // namespace etsecd::operator_cmd
