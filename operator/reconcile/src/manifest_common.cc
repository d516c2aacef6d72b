// Owner references, metadata and the desired-state hash shared by all manifests.
#include <openssl/evp.h>

#include <cstdio>

#include "etsecd/reconcile/manifests.h"
#include "object_meta.h"

namespace etsecd::reconcile {

using nlohmann::json;

json owner_reference(const Owner& owner) {
  return json{{"apiVersion", std::string(kApiVersion)},
              {"kind", std::string(kKind)},
              {"name", owner.name},
              {"uid", owner.uid},
              {"controller", true},
              {"blockOwnerDeletion", true}};
}

namespace detail {

json label_map(const std::map<std::string, std::string>& labels) {
  json out = json::object();
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

json owned_metadata(const ClusterNames& names, const Owner& owner, const std::string& name) {
  return json{{"name", name},
              {"namespace", names.ns()},
              {"labels", label_map(names.labels())},
              {"ownerReferences", json::array({owner_reference(owner)})}};
}

}  // namespace detail

std::string manifest_hash(const json& manifest) {
  json copy = manifest;
  const json::json_pointer annotations("/metadata/annotations");
  if (copy.contains(annotations) && copy.at(annotations).is_object()) {
    copy.at(annotations).erase(std::string(kDesiredHashAnnotation));
    if (copy.at(annotations).empty()) copy["metadata"].erase("annotations");
  }
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  std::string text = copy.dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

json with_desired_hash(json manifest) {
  std::string hash = manifest_hash(manifest);
  manifest["metadata"]["annotations"][std::string(kDesiredHashAnnotation)] = hash;
  return manifest;
}

std::string initial_cluster(const ClusterNames& names, int bootstrap_members) {
  std::string out;
  for (int i = 0; i < bootstrap_members; ++i) {
    if (i > 0) out += ",";
    out += names.member(i) + "=" + names.peer_url(i);
  }
  return out;
}

std::string initial_cluster_token(const Owner& owner) {
  return owner.ns + "/" + owner.name + "/" + owner.uid;
}

}  // namespace etsecd::reconcile
