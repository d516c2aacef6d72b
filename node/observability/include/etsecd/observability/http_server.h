#pragma once
// The member's plain-HTTP side listener (--listen-metrics-urls): GET /metrics (Prometheus text),
// GET /health (etcd's {"health":"true"} / {"health":"false"} with 200 / 503) and GET /readyz
// (200 "ok" / 503 "not ready"); /healthz is /health in plain text for Kubernetes probes. Nothing it serves
// may contain a value or a share: the bodies come only from the callbacks below, which report counts and
// states.
//
// cpprest stays behind this header (pimpl); only http_server.cc includes it.

#include <functional>
#include <memory>
#include <string>

#include "etsecd/common/result.h"

namespace etsecd::observability {

struct HttpEndpoints {
  std::function<std::string()> metrics;  // body of /metrics; required
  std::function<bool()> ready;           // /readyz; unset means "not ready"
  std::function<bool()> healthy;         // /health; unset means healthy
};

class HttpServer {
 public:
  // Starts serving on `url` ("http://127.0.0.1:9100"); returns once the port is bound.
  // Errors: http.bad_url, http.listen (the port is taken, the address is not local, ...).
  static Result<std::unique_ptr<HttpServer>> start(const std::string& url, HttpEndpoints endpoints);

  ~HttpServer();  // stops serving and waits for in-flight requests
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  const std::string& url() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etsecd::observability
