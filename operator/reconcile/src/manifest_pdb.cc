// The PodDisruptionBudget: voluntary disruptions (drains, evictions) never leave fewer than W members,
// so writes keep committing and every committed value keeps k holders.
#include "etsecd/reconcile/manifests.h"
#include "object_meta.h"

namespace etsecd::reconcile {

using nlohmann::json;

json pod_disruption_budget_manifest(const ClusterNames& names, const Owner& owner, int min_available) {
  return json{{"apiVersion", "policy/v1"},
              {"kind", "PodDisruptionBudget"},
              {"metadata", detail::owned_metadata(names, owner, names.pod_disruption_budget())},
              {"spec",
               {{"minAvailable", min_available},
                {"selector", {{"matchLabels", detail::label_map(names.selector_labels())}}}}}};
}

}  // namespace etsecd::reconcile
