#include "etsecd/kube/owner_reference.h"

#include "etsecd/kube/errors.h"

namespace etsecd::kube {

Result<nlohmann::json> controller_reference(const nlohmann::json& owner) {
  auto str = [](const nlohmann::json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  const nlohmann::json metadata =
      owner.is_object() && owner.contains("metadata") ? owner["metadata"] : nlohmann::json::object();
  nlohmann::json ref = {{"apiVersion", str(owner, "apiVersion")},
                        {"kind", str(owner, "kind")},
                        {"name", str(metadata, "name")},
                        {"uid", str(metadata, "uid")},
                        {"controller", true},
                        {"blockOwnerDeletion", true}};
  for (const char* key : {"apiVersion", "kind", "name", "uid"}) {
    if (ref[key].get<std::string>().empty()) {
      return make_kube_error(ErrorKind::kBadRequest, std::string("an owner reference needs the owner's ") +
                                                         key + " (read it from the API first)");
    }
  }
  return ref;
}

Status set_controller_reference(nlohmann::json& object, const nlohmann::json& owner) {
  Result<nlohmann::json> ref = controller_reference(owner);
  if (!ref) return ref.error();
  if (!object.is_object())
    return make_kube_error(ErrorKind::kBadRequest, "owned object is not a JSON object");
  nlohmann::json& refs = object["metadata"]["ownerReferences"];
  if (refs.is_null()) refs = nlohmann::json::array();
  if (!refs.is_array())
    return make_kube_error(ErrorKind::kBadRequest, "metadata.ownerReferences is not a list");
  for (auto& existing : refs) {
    if (!existing.is_object()) continue;
    bool same = existing.value("uid", "") == (*ref)["uid"];
    if (same) {
      existing = *ref;
      return Status::Ok();
    }
    if (existing.value("controller", false)) {
      return make_kube_error(
          ErrorKind::kConflict,
          "object is already controlled by " + existing.value("kind", "") + " " + existing.value("name", ""));
    }
  }
  refs.push_back(*ref);
  return Status::Ok();
}

}  // namespace etsecd::kube
