#pragma once
// Names the kinds of API objects the operator works with: apiVersion ("v1" for the core group,
// "apps/v1" otherwise), the plural resource used in URLs, and whether objects live in namespaces.

#include <string>

namespace etsecd::kube {

struct Resource {
  std::string api_version;  // "v1", "apps/v1", "etsecd.io/v1alpha1"
  std::string plural;       // "pods", "statefulsets"
  std::string kind;         // "Pod", used for owner references and events
  bool namespaced = true;

  bool core() const { return api_version.find('/') == std::string::npos; }
};

namespace resources {
inline Resource namespaces() { return {"v1", "namespaces", "Namespace", false}; }
inline Resource nodes() { return {"v1", "nodes", "Node", false}; }
inline Resource pods() { return {"v1", "pods", "Pod", true}; }
inline Resource services() { return {"v1", "services", "Service", true}; }
inline Resource secrets() { return {"v1", "secrets", "Secret", true}; }
inline Resource config_maps() { return {"v1", "configmaps", "ConfigMap", true}; }
inline Resource persistent_volume_claims() {
  return {"v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
}
inline Resource events() { return {"v1", "events", "Event", true}; }
inline Resource stateful_sets() { return {"apps/v1", "statefulsets", "StatefulSet", true}; }
inline Resource pod_disruption_budgets() {
  return {"policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", true};
}
inline Resource leases() { return {"coordination.k8s.io/v1", "leases", "Lease", true}; }
inline Resource custom_resource_definitions() {
  return {"apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", false};
}
inline Resource etsecd_clusters() { return {"etsecd.io/v1alpha1", "etsecdclusters", "EtsecdCluster", true}; }
}  // namespace resources

}  // namespace etsecd::kube
