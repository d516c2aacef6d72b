#pragma once
// HTTP listener for the operator's /metrics (Prometheus text format) and /healthz. cpprestsdk stays
// inside metrics_server.cc.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/observability/metrics_registry.h"

namespace etsecd::observability {

class MetricsServer {
 public:
  // health: Ok -> 200 "ok", an error -> 500 with its message. Empty = always healthy.
  MetricsServer(const MetricsRegistry& registry, std::function<Status()> health = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Listens on http://address:port ("0.0.0.0" in a pod, "127.0.0.1" in tests).
  Status start(const std::string& address, std::uint16_t port);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etsecd::observability
