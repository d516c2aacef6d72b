#pragma once
// Owner references: every object the operator creates for an EtsecdCluster names the cluster as its
// controller, so that the garbage collector deletes it with the cluster and informers of owned kinds
// can find the cluster to requeue (informer.h: enqueue_controller_key).

#include <nlohmann/json.hpp>

#include "etsecd/common/result.h"

namespace etsecd::kube {

// {apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true} for owner, which must carry
// apiVersion, kind, metadata.name and metadata.uid (i.e. come from the API server).
Result<nlohmann::json> controller_reference(const nlohmann::json& owner);

// Adds (or refreshes) owner as the controller of object. Refuses if object already has a different
// controller: one object cannot be managed by two controllers.
Status set_controller_reference(nlohmann::json& object, const nlohmann::json& owner);

}  // namespace etsecd::kube
