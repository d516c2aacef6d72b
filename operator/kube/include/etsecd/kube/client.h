#pragma once
// The Kubernetes API client: generic operations on JSON objects addressed by resource, namespace and
// name, over HTTPS (TLS verified unless the config says otherwise). Thread-safe. Errors are typed
// (errors.h). cpprestsdk stays inside http_client.cc.

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "etsecd/common/result.h"
#include "etsecd/kube/config.h"
#include "etsecd/kube/options.h"
#include "etsecd/kube/request.h"
#include "etsecd/kube/resource.h"
#include "etsecd/kube/stop_signal.h"
#include "etsecd/kube/watch_event.h"

namespace etsecd::kube {

struct ClientOptions {
  std::chrono::seconds request_timeout{30};
  std::string user_agent = "etsecd-operator/0.1";
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> create(Config config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Config& config() const;

  Result<nlohmann::json> get(const Resource& r, std::string_view ns, std::string_view name,
                             std::string_view subresource = "");
  // One page (limit/continue in options); the List object as returned.
  Result<nlohmann::json> list(const Resource& r, std::string_view ns, const ListOptions& options = {});
  // All pages; a List with every item and the resourceVersion of the first page's snapshot.
  Result<nlohmann::json> list_all(const Resource& r, std::string_view ns, ListOptions options = {});
  Result<nlohmann::json> create(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                const WriteOptions& options = {});
  // PUT of the whole object (metadata.resourceVersion makes it conditional).
  Result<nlohmann::json> replace(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                 const WriteOptions& options = {});
  // PUT of the status subresource.
  Result<nlohmann::json> update_status(const Resource& r, std::string_view ns, const nlohmann::json& object,
                                       const WriteOptions& options = {});
  // The response body: the object (being deleted) or a Status.
  Result<nlohmann::json> remove(const Resource& r, std::string_view ns, std::string_view name,
                                const DeleteOptions& options = {});
  // Server-side apply of object (must carry apiVersion, kind, metadata.name).
  Result<nlohmann::json> apply(const Resource& r, std::string_view ns, const nlohmann::json& object,
                               const ApplyOptions& options);
  Result<nlohmann::json> patch(const Resource& r, std::string_view ns, std::string_view name, PatchType type,
                               const nlohmann::json& patch, const PatchOptions& options = {});
  Result<nlohmann::json> patch_status(const Resource& r, std::string_view ns, std::string_view name,
                                      PatchType type, const nlohmann::json& patch, PatchOptions options = {});

  // One watch request: events go to on_event in order until the server ends the stream (Ok), on_event
  // returns false (Ok), an error occurs, or stop is signalled (kCancelled). An ERROR event is delivered
  // to on_event and then returned as the error (kGone for 410). No retries here: the reflector/informer
  // decides how to resume.
  Status watch(const Resource& r, std::string_view ns, const WatchOptions& options,
               const std::function<bool(const WatchEvent&)>& on_event, StopSignal* stop = nullptr);

  // Executes a prepared request; the JSON response body (null for an empty body).
  Result<nlohmann::json> execute(const Request& request);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etsecd::kube
