#include "etsecd/observability/metrics_server.h"

#include <cpprest/http_listener.h>

namespace etsecd::observability {

namespace http = web::http;

struct MetricsServer::Impl {
  const MetricsRegistry& registry;
  std::function<Status()> health;
  std::unique_ptr<http::experimental::listener::http_listener> listener;

  void handle(const http::http_request& request) const {
    const std::string path = request.relative_uri().path();
    if (request.method() != http::methods::GET && request.method() != http::methods::HEAD) {
      request.reply(http::status_codes::MethodNotAllowed, "only GET\n", "text/plain; charset=utf-8");
      return;
    }
    if (path == "/metrics") {
      request.reply(http::status_codes::OK, registry.render(), "text/plain; version=0.0.4; charset=utf-8");
    } else if (path == "/healthz") {
      Status s = health ? health() : Status::Ok();
      if (s.ok()) {
        request.reply(http::status_codes::OK, "ok\n", "text/plain; charset=utf-8");
      } else {
        request.reply(http::status_codes::InternalError, s.error().message + "\n",
                      "text/plain; charset=utf-8");
      }
    } else {
      request.reply(http::status_codes::NotFound, "not found\n", "text/plain; charset=utf-8");
    }
  }
};

MetricsServer::MetricsServer(const MetricsRegistry& registry, std::function<Status()> health)
    : impl_(std::make_unique<Impl>(Impl{registry, std::move(health), nullptr})) {}

MetricsServer::~MetricsServer() { stop(); }

Status MetricsServer::start(const std::string& address, std::uint16_t port) {
  if (impl_->listener) return make_error("metrics.already_started", "the metrics server is already running");
  try {
    auto listener = std::make_unique<http::experimental::listener::http_listener>(
        web::uri("http://" + address + ":" + std::to_string(port)));
    const Impl* impl = impl_.get();
    listener->support([impl](const http::http_request& request) { impl->handle(request); });
    listener->open().wait();
    impl_->listener = std::move(listener);
  } catch (const std::exception& e) {
    return make_error("metrics.listen",
                      "cannot serve metrics on " + address + ":" + std::to_string(port) + ": " + e.what());
  }
  return Status::Ok();
}

void MetricsServer::stop() {
  if (!impl_ || !impl_->listener) return;
  try {
    impl_->listener->close().wait();
  } catch (const std::exception&) {
    // Closing a listener whose socket already failed: nothing left to release.
  }
  impl_->listener.reset();
}

}  // namespace etsecd::observability
