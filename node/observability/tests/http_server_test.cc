// The side listener on loopback, driven by a real HTTP client.
#include "etsecd/observability/http_server.h"

#include <arpa/inet.h>
#include <cpprest/http_client.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "etsecd/observability/metrics.h"

using etsecd::observability::HttpEndpoints;
using etsecd::observability::HttpServer;
namespace http = web::http;

namespace {

// A port the kernel just handed out on 127.0.0.1 (free unless someone races us for it).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Reply {
  int status;
  std::string body;
  std::string content_type;
};

Reply get(const std::string& base, const std::string& path, const http::method& method = http::methods::GET) {
  http::client::http_client client(base);
  http::http_response r = client.request(method, path).get();
  return Reply{r.status_code(), r.extract_utf8string(true).get(), r.headers().content_type()};
}

}  // namespace

TEST_CASE("metrics, health and readiness over HTTP") {
  etsecd::metrics::Registry registry;
  registry.counter("etsecd_test_total", "A test counter.").inc(3);
  std::atomic<bool> ready{false};
  std::atomic<bool> healthy{true};
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port());
  auto server =
      HttpServer::start(url, HttpEndpoints{[&] { return registry.render(); }, [&] { return ready.load(); },
                                           [&] { return healthy.load(); }});
  REQUIRE_MESSAGE(server.ok(), (server.ok() ? "" : server.error().message));
  CHECK((*server)->url() == url);

  Reply metrics = get(url, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("etsecd_test_total 3\n") != std::string::npos);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");

  Reply health = get(url, "/health");
  CHECK(health.status == 200);
  CHECK(health.body == "{\"health\":\"true\"}");
  CHECK(get(url, "/healthz").status == 200);
  healthy = false;
  health = get(url, "/health");
  CHECK(health.status == 503);
  CHECK(health.body == "{\"health\":\"false\"}");
  Reply healthz = get(url, "/healthz");
  CHECK(healthz.status == 503);
  CHECK(healthz.body == "unhealthy\n");

  CHECK(get(url, "/readyz").status == 503);
  ready = true;
  Reply readyz = get(url, "/readyz");
  CHECK(readyz.status == 200);
  CHECK(readyz.body == "ok\n");

  CHECK(get(url, "/nope").status == 404);
  CHECK(get(url, "/metrics", http::methods::POST).status == 405);

  // Values update between scrapes.
  registry.counter("etsecd_test_total", "A test counter.").inc();
  CHECK(get(url, "/metrics").body.find("etsecd_test_total 4\n") != std::string::npos);
}

TEST_CASE("start errors are reported, not thrown") {
  auto noop = [] { return std::string(); };
  auto bad = HttpServer::start("https://127.0.0.1:1", HttpEndpoints{noop, {}, {}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "http.bad_url");
  CHECK(HttpServer::start("not a url", HttpEndpoints{noop, {}, {}}).error().code == "http.bad_url");
  CHECK(HttpServer::start("http://127.0.0.1:1", HttpEndpoints{}).error().code == "http.bad_url");

  const std::string url = "http://127.0.0.1:" + std::to_string(free_port());
  auto first = HttpServer::start(url, HttpEndpoints{noop, {}, {}});
  REQUIRE(first.ok());
  auto second = HttpServer::start(url, HttpEndpoints{noop, {}, {}});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == "http.listen");
  CHECK(second.error().message.find(url) != std::string::npos);
}

TEST_CASE("stopping frees the port and unset readiness means not ready") {
  auto noop = [] { return std::string("x"); };
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port());
  {
    auto s = HttpServer::start(url, HttpEndpoints{noop, {}, {}});
    REQUIRE(s.ok());
    CHECK(get(url, "/readyz").status == 503);
    CHECK(get(url, "/health").status == 200);
  }
  auto again = HttpServer::start(url, HttpEndpoints{noop, {}, {}});
  CHECK(again.ok());
}
