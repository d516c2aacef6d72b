#include "etsecd/kube/request.h"

#include "etsecd/kube/errors.h"

namespace etsecd::kube {
namespace {

// A name or namespace becomes one path segment; "/" or a dot-segment would address another URL.
Status check_segment(std::string_view what, std::string_view value) {
  if (value.empty()) return make_kube_error(ErrorKind::kBadRequest, std::string(what) + " must not be empty");
  if (value == "." || value == ".." || value.find('/') != std::string_view::npos) {
    return make_kube_error(ErrorKind::kBadRequest,
                           std::string(what) + " \"" + std::string(value) + "\" is not a valid path segment");
  }
  return Status::Ok();
}

Status check_resource(const Resource& r) {
  if (r.api_version.empty() || r.plural.empty()) {
    return make_kube_error(ErrorKind::kBadRequest, "resource needs an apiVersion and a plural name");
  }
  return check_segment("resource", r.plural);
}

// The namespace an object-addressed call uses: the explicit one, else the object's own; they must agree.
Result<std::string> resolve_namespace(const Resource& r, std::string_view ns, const nlohmann::json& object) {
  if (!r.namespaced) return std::string();
  std::string own;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object()) {
    own = object["metadata"].value("namespace", "");
  }
  if (!ns.empty() && !own.empty() && own != ns) {
    return make_kube_error(
        ErrorKind::kBadRequest,
        "object namespace \"" + own + "\" does not match the request namespace \"" + std::string(ns) + "\"");
  }
  std::string chosen = ns.empty() ? own : std::string(ns);
  if (chosen.empty())
    return make_kube_error(ErrorKind::kBadRequest, r.kind + " is namespaced: namespace missing");
  return chosen;
}

Result<std::string> object_name(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object() ||
      !object["metadata"].contains("name") || !object["metadata"]["name"].is_string()) {
    return make_kube_error(ErrorKind::kBadRequest, "object has no metadata.name");
  }
  return object["metadata"]["name"].get<std::string>();
}

void add_dry_run(Request& request, bool dry_run) {
  if (dry_run) request.query.emplace_back("dryRun", "All");
}

void add_field_manager(Request& request, const std::string& field_manager) {
  if (!field_manager.empty()) request.query.emplace_back("fieldManager", field_manager);
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string Request::target() const {
  std::string out = path;
  char sep = '?';
  for (const auto& [key, value] : query) {
    out += sep;
    out += percent_encode(key);
    out += '=';
    out += percent_encode(value);
    sep = '&';
  }
  return out;
}

std::string api_prefix(const Resource& resource) {
  return resource.core() ? "/api/" + resource.api_version : "/apis/" + resource.api_version;
}

Result<std::string> collection_path(const Resource& resource, std::string_view ns) {
  if (Status s = check_resource(resource); !s) return s.error();
  std::string path = api_prefix(resource);
  if (resource.namespaced && !ns.empty()) {
    if (Status s = check_segment("namespace", ns); !s) return s.error();
    path += "/namespaces/" + percent_encode(ns);
  }
  return path + "/" + resource.plural;
}

Result<std::string> object_path(const Resource& resource, std::string_view ns, std::string_view name,
                                std::string_view subresource) {
  if (resource.namespaced && ns.empty()) {
    return make_kube_error(ErrorKind::kBadRequest, resource.kind + " is namespaced: namespace missing");
  }
  if (Status s = check_segment("name", name); !s) return s.error();
  Result<std::string> path = collection_path(resource, ns);
  if (!path) return path;
  std::string out = *path + "/" + percent_encode(name);
  if (!subresource.empty()) {
    if (Status s = check_segment("subresource", subresource); !s) return s.error();
    out += "/" + percent_encode(subresource);
  }
  return out;
}

Result<Request> get_request(const Resource& r, std::string_view ns, std::string_view name,
                            std::string_view subresource) {
  Result<std::string> path = object_path(r, ns, name, subresource);
  if (!path) return path.error();
  return Request{"GET", *path, {}, "", "", false};
}

Result<Request> list_request(const Resource& r, std::string_view ns, const ListOptions& options) {
  Result<std::string> path = collection_path(r, ns);
  if (!path) return path.error();
  Request request{"GET", *path, {}, "", "", false};
  if (!options.label_selector.empty()) request.query.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) request.query.emplace_back("fieldSelector", options.field_selector);
  if (!options.resource_version.empty())
    request.query.emplace_back("resourceVersion", options.resource_version);
  if (!options.resource_version_match.empty()) {
    request.query.emplace_back("resourceVersionMatch", options.resource_version_match);
  }
  if (options.limit < 0) return make_kube_error(ErrorKind::kBadRequest, "list limit must not be negative");
  if (options.limit > 0) request.query.emplace_back("limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) request.query.emplace_back("continue", options.continue_token);
  return request;
}

Result<Request> watch_request(const Resource& r, std::string_view ns, const WatchOptions& options) {
  Result<std::string> path = collection_path(r, ns);
  if (!path) return path.error();
  Request request{"GET", *path, {{"watch", "true"}}, "", "", true};
  if (options.allow_bookmarks) request.query.emplace_back("allowWatchBookmarks", "true");
  if (!options.resource_version.empty())
    request.query.emplace_back("resourceVersion", options.resource_version);
  if (!options.label_selector.empty()) request.query.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) request.query.emplace_back("fieldSelector", options.field_selector);
  if (options.timeout_seconds < 0)
    return make_kube_error(ErrorKind::kBadRequest, "watch timeout must not be negative");
  if (options.timeout_seconds > 0) {
    request.query.emplace_back("timeoutSeconds", std::to_string(options.timeout_seconds));
  }
  return request;
}

Result<Request> create_request(const Resource& r, std::string_view ns, const nlohmann::json& object,
                               const WriteOptions& options) {
  if (!object.is_object()) return make_kube_error(ErrorKind::kBadRequest, "create needs a JSON object");
  Result<std::string> chosen = resolve_namespace(r, ns, object);
  if (!chosen) return chosen.error();
  Result<std::string> path = collection_path(r, *chosen);
  if (!path) return path.error();
  Request request{"POST", *path, {}, "application/json", object.dump(), false};
  add_field_manager(request, options.field_manager);
  add_dry_run(request, options.dry_run);
  return request;
}

Result<Request> replace_request(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                const WriteOptions& options, std::string_view subresource) {
  Result<std::string> name = object_name(object);
  if (!name) return name.error();
  Result<std::string> chosen = resolve_namespace(r, ns, object);
  if (!chosen) return chosen.error();
  Result<std::string> path = object_path(r, *chosen, *name, subresource);
  if (!path) return path.error();
  Request request{"PUT", *path, {}, "application/json", object.dump(), false};
  add_field_manager(request, options.field_manager);
  add_dry_run(request, options.dry_run);
  return request;
}

Result<Request> delete_request(const Resource& r, std::string_view ns, std::string_view name,
                               const DeleteOptions& options) {
  Result<std::string> path = object_path(r, ns, name);
  if (!path) return path.error();
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (options.propagation_policy) {
    const std::string& p = *options.propagation_policy;
    if (p != "Foreground" && p != "Background" && p != "Orphan") {
      return make_kube_error(ErrorKind::kBadRequest,
                             "propagationPolicy must be Foreground, Background or Orphan, not \"" + p + "\"");
    }
    body["propagationPolicy"] = p;
  }
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (options.precondition_uid) body["preconditions"]["uid"] = *options.precondition_uid;
  if (options.precondition_resource_version) {
    body["preconditions"]["resourceVersion"] = *options.precondition_resource_version;
  }
  if (options.dry_run) body["dryRun"] = nlohmann::json::array({"All"});
  return Request{"DELETE", *path, {}, "application/json", body.dump(), false};
}

Result<Request> apply_request(const Resource& r, std::string_view ns, std::string_view name,
                              const nlohmann::json& object, const ApplyOptions& options) {
  if (options.field_manager.empty()) {
    return make_kube_error(ErrorKind::kBadRequest, "server-side apply needs a field manager");
  }
  if (!object.is_object() || !object.contains("apiVersion") || !object.contains("kind")) {
    return make_kube_error(ErrorKind::kBadRequest,
                           "server-side apply needs an object with apiVersion and kind");
  }
  Result<std::string> own_name = object_name(object);
  if (!own_name) return own_name.error();
  if (*own_name != name) {
    return make_kube_error(
        ErrorKind::kBadRequest,
        "object name \"" + *own_name + "\" does not match the request name \"" + std::string(name) + "\"");
  }
  Result<std::string> chosen = resolve_namespace(r, ns, object);
  if (!chosen) return chosen.error();
  Result<std::string> path = object_path(r, *chosen, name, options.subresource);
  if (!path) return path.error();
  // JSON is YAML, so the apply body needs no YAML encoder.
  Request request{"PATCH", *path, {}, "application/apply-patch+yaml", object.dump(), false};
  add_field_manager(request, options.field_manager);
  if (options.force) request.query.emplace_back("force", "true");
  add_dry_run(request, options.dry_run);
  return request;
}

Result<Request> patch_request(const Resource& r, std::string_view ns, std::string_view name, PatchType type,
                              const nlohmann::json& patch, const PatchOptions& options) {
  Result<std::string> path = object_path(r, ns, name, options.subresource);
  if (!path) return path.error();
  std::string content_type;
  switch (type) {
    case PatchType::kMerge:
      content_type = "application/merge-patch+json";
      if (!patch.is_object())
        return make_kube_error(ErrorKind::kBadRequest, "a merge patch is a JSON object");
      break;
    case PatchType::kStrategicMerge:
      content_type = "application/strategic-merge-patch+json";
      if (!patch.is_object()) {
        return make_kube_error(ErrorKind::kBadRequest, "a strategic merge patch is a JSON object");
      }
      break;
    case PatchType::kJson:
      content_type = "application/json-patch+json";
      if (!patch.is_array())
        return make_kube_error(ErrorKind::kBadRequest, "a JSON patch is an array of operations");
      break;
  }
  Request request{"PATCH", *path, {}, content_type, patch.dump(), false};
  add_field_manager(request, options.field_manager);
  add_dry_run(request, options.dry_run);
  return request;
}

}  // namespace etsecd::kube
