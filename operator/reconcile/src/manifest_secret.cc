// Opaque Secrets holding PEM certificates and keys.
#include "base64.h"
#include "etsecd/reconcile/manifests.h"
#include "object_meta.h"

namespace etsecd::reconcile {

using nlohmann::json;

json secret_manifest(const ClusterNames& names, const Owner& owner, const std::string& name,
                     const std::map<std::string, std::string>& data) {
  json encoded = json::object();
  for (const auto& [k, v] : data) encoded[k] = detail::base64_encode(v);
  return json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", detail::owned_metadata(names, owner, name)},
              {"type", "Opaque"},
              {"data", encoded}};
}

}  // namespace etsecd::reconcile
