#pragma once
// Metadata shared by every owned object: name, namespace, labels, controller owner reference.

#include <nlohmann/json.hpp>
#include <string>

#include "etsecd/reconcile/manifests.h"

namespace etsecd::reconcile::detail {

nlohmann::json owned_metadata(const ClusterNames& names, const Owner& owner, const std::string& name);
nlohmann::json label_map(const std::map<std::string, std::string>& labels);

}  // namespace etsecd::reconcile::detail
