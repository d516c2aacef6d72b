#pragma once
// Builds the HTTP requests of every API operation (method, path, query, content type, body) without
// doing any I/O, so that the URL rules are unit-tested and the HTTP client only executes them.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/kube/options.h"
#include "etsecd/kube/resource.h"

namespace etsecd::kube {

struct Request {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string path;    // "/apis/apps/v1/namespaces/ns/statefulsets/name/status"
  std::vector<std::pair<std::string, std::string>> query;  // unescaped
  std::string content_type;                                // "" when there is no body
  std::string body;
  bool watch = false;  // the response is a stream of events

  // path + "?" + escaped query
  std::string target() const;
};

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view text);

// "/api/v1" or "/apis/<group>/<version>".
std::string api_prefix(const Resource& resource);
// Collection URL; an empty namespace on a namespaced resource means "all namespaces" (list/watch only).
Result<std::string> collection_path(const Resource& resource, std::string_view ns);
Result<std::string> object_path(const Resource& resource, std::string_view ns, std::string_view name,
                                std::string_view subresource = "");

Result<Request> get_request(const Resource& r, std::string_view ns, std::string_view name,
                            std::string_view subresource = "");
Result<Request> list_request(const Resource& r, std::string_view ns, const ListOptions& options);
Result<Request> watch_request(const Resource& r, std::string_view ns, const WatchOptions& options);
Result<Request> create_request(const Resource& r, std::string_view ns, const nlohmann::json& object,
                               const WriteOptions& options);
Result<Request> replace_request(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                const WriteOptions& options, std::string_view subresource = "");
Result<Request> delete_request(const Resource& r, std::string_view ns, std::string_view name,
                               const DeleteOptions& options);
Result<Request> apply_request(const Resource& r, std::string_view ns, std::string_view name,
                              const nlohmann::json& object, const ApplyOptions& options);
Result<Request> patch_request(const Resource& r, std::string_view ns, std::string_view name, PatchType type,
                              const nlohmann::json& patch, const PatchOptions& options);

}  // namespace etsecd::kube
