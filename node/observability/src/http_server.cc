#include "etsecd/observability/http_server.h"

#include <cpprest/http_listener.h>

#include "etsecd/observability/metrics.h"

namespace etsecd::observability {

namespace http = web::http;

struct HttpServer::Impl {
  std::string url;
  HttpEndpoints endpoints;
  std::unique_ptr<http::experimental::listener::http_listener> listener;

  void handle(const http::http_request& request) const {
    const std::string path = request.relative_uri().path();
    if (request.method() != http::methods::GET && request.method() != http::methods::HEAD) {
      http::http_response response(http::status_codes::MethodNotAllowed);
      response.headers().add("Allow", "GET, HEAD");
      response.set_body("method not allowed\n", "text/plain; charset=utf-8");
      request.reply(response).wait();
      return;
    }
    try {
      if (path == "/metrics") {
        request.reply(http::status_codes::OK, endpoints.metrics(), std::string(metrics::kContentType)).wait();
      } else if (path == "/health") {
        bool ok = !endpoints.healthy || endpoints.healthy();
        request
            .reply(ok ? http::status_codes::OK : http::status_codes::ServiceUnavailable,
                   ok ? "{\"health\":\"true\"}" : "{\"health\":\"false\"}", "application/json")
            .wait();
      } else if (path == "/healthz") {
        // Kubernetes-style liveness (the operator's probe): the same check as /health, plain text.
        bool ok = !endpoints.healthy || endpoints.healthy();
        request
            .reply(ok ? http::status_codes::OK : http::status_codes::ServiceUnavailable,
                   ok ? "ok\n" : "unhealthy\n", "text/plain; charset=utf-8")
            .wait();
      } else if (path == "/readyz") {
        bool ok = endpoints.ready && endpoints.ready();
        request
            .reply(ok ? http::status_codes::OK : http::status_codes::ServiceUnavailable,
                   ok ? "ok\n" : "not ready\n", "text/plain; charset=utf-8")
            .wait();
      } else {
        request.reply(http::status_codes::NotFound, "not found\n", "text/plain; charset=utf-8").wait();
      }
    } catch (const std::exception&) {
      // A callback failed or the client went away; the member carries on either way.
      request.reply(http::status_codes::InternalError, "internal error\n", "text/plain; charset=utf-8");
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  try {
    impl_->listener->close().wait();
  } catch (const std::exception&) {
    // Closing a listener that failed mid-way has nothing left to release.
  }
}

const std::string& HttpServer::url() const { return impl_->url; }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& url, HttpEndpoints endpoints) {
  if (!endpoints.metrics) return make_error("http.bad_url", "the metrics endpoint needs a metrics callback");
  web::uri uri;
  try {
    uri = web::uri(url);
  } catch (const std::exception& e) {
    return make_error("http.bad_url", "cannot listen on \"" + url + "\": " + e.what());
  }
  if (uri.scheme() != "http" || uri.port() <= 0) {
    return make_error("http.bad_url", "cannot listen on \"" + url + "\": need http://host:port");
  }
  auto impl = std::make_unique<Impl>();
  impl->url = url;
  impl->endpoints = std::move(endpoints);
  try {
    impl->listener = std::make_unique<http::experimental::listener::http_listener>(uri);
    Impl* self = impl.get();
    impl->listener->support([self](const http::http_request& request) { self->handle(request); });
    impl->listener->open().wait();
  } catch (const std::exception& e) {
    return make_error("http.listen", "cannot listen on " + url + ": " + e.what());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace etsecd::observability
