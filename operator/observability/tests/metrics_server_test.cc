// /metrics and /healthz over a real socket on 127.0.0.1 (plain HTTP client in the test, so that this
// test needs no cpprest of its own).

#include "etsecd/observability/metrics_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

using namespace etsecd::observability;

namespace {

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string http_get(std::uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return response;
}

}  // namespace

TEST_CASE("serves /metrics and /healthz") {
  MetricsRegistry registry;
  registry.counter("etsecd_operator_reconciles_total", "Reconcile passes.", {{"result", "success"}}).inc(2);
  std::atomic<bool> healthy{true};
  MetricsServer server(registry, [&]() -> etsecd::Status {
    if (healthy) return etsecd::Status::Ok();
    return etsecd::make_error("operator.informers", "informer for pods has not synced");
  });
  std::uint16_t port = free_port();
  REQUIRE(server.start("127.0.0.1", port).ok());

  std::string metrics = http_get(port, "/metrics");
  CHECK(metrics.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(metrics.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(metrics.find("etsecd_operator_reconciles_total{result=\"success\"} 2\n") != std::string::npos);

  std::string health = http_get(port, "/healthz");
  CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(health.find("\r\n\r\nok\n") != std::string::npos);
  healthy = false;
  std::string sick = http_get(port, "/healthz");
  CHECK(sick.rfind("HTTP/1.1 500", 0) == 0);
  CHECK(sick.find("informer for pods has not synced") != std::string::npos);
  CHECK(http_get(port, "/secrets").rfind("HTTP/1.1 404", 0) == 0);

  MetricsServer second(registry);
  CHECK_FALSE(second.start("127.0.0.1", port).ok());  // port taken: a clear error, not a crash
  server.stop();
}
