#include "flags.h"

#include <doctest/doctest.h>

using namespace etsecd::operator_cmd;

namespace {
Flags parse_ok(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->command == Command::kRun);
  return r->flags;
}
std::string parse_error(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "flags.invalid");
  return r.error().message;
}
}  // namespace

TEST_CASE("the chart's Deployment arguments parse") {
  Flags f =
      parse_ok({"--leader-elect=true", "--leader-election-id=etsecd-operator",
                "--leader-election-namespace=etsecd-system", "--watch-namespaces=a, b,a",
                "--metrics-bind-address=:8080", "--member-image-repository=ghcr.example/etsecd/etsecd-node",
                "--default-member-version=0.1.0", "--cluster-domain=cluster.local", "--log-level=debug"});
  CHECK(f.leader_elect);
  CHECK(f.leader_election_id == "etsecd-operator");
  CHECK(f.leader_election_namespace == "etsecd-system");
  CHECK(f.watch_namespaces == std::vector<std::string>{"a", "b"});
  REQUIRE(f.metrics.has_value());
  CHECK(f.metrics->host == "0.0.0.0");
  CHECK(f.metrics->port == 8080);
  CHECK(f.member_image_repository == "ghcr.example/etsecd/etsecd-node");
  CHECK(f.log_level == "debug");
}

TEST_CASE("defaults, empty watch list, metrics off, separate values") {
  Flags d = parse_ok({});
  CHECK_FALSE(d.leader_elect);
  CHECK(d.watch_namespaces.empty());
  REQUIRE(d.metrics.has_value());
  CHECK(d.metrics->port == 8080);
  Flags f = parse_ok(
      {"--watch-namespaces=", "--metrics-bind-address=0", "--leader-elect", "--kubeconfig", "/tmp/k"});
  CHECK(f.watch_namespaces.empty());
  CHECK_FALSE(f.metrics.has_value());
  CHECK(f.leader_elect);
  CHECK(f.kubeconfig == "/tmp/k");
  CHECK_FALSE(parse_ok({"--leader-elect=false"}).leader_elect);
  Flags local = parse_ok({"--metrics-bind-address=127.0.0.1:18080"});
  CHECK(local.metrics->host == "127.0.0.1");
  CHECK(parse_ok({"--metrics-bind-address=[::1]:9"}).metrics->host == "::1");
}

TEST_CASE("help and version") {
  CHECK(parse_command_line({"--help"})->command == Command::kHelp);
  CHECK(parse_command_line({"--log-level=info", "-h"})->command == Command::kHelp);
  CHECK(parse_command_line({"--version"})->command == Command::kVersion);
  CHECK(usage().find("--metrics-bind-address") != std::string::npos);
}

TEST_CASE("bad input names the flag") {
  CHECK(parse_error({"--nope=1"}).find("unknown flag --nope") != std::string::npos);
  CHECK(parse_error({"positional"}).find("unexpected argument") != std::string::npos);
  CHECK(parse_error({"--cluster-domain"}).find("--cluster-domain needs a value") != std::string::npos);
  CHECK(parse_error({"--leader-elect=maybe"}).find("--leader-elect") != std::string::npos);
  CHECK(parse_error({"--metrics-bind-address=8080"}).find("--metrics-bind-address") != std::string::npos);
  CHECK(parse_error({"--metrics-bind-address=:99999"}).find("port must be") != std::string::npos);
  CHECK(parse_error({"--metrics-bind-address=:"}).find("port must be") != std::string::npos);
  CHECK(parse_error({"--watch-namespaces=Good,bad_ns"}).find("\"Good\"") != std::string::npos);
  CHECK(parse_error({"--watch-namespaces=a,,b"}).find("--watch-namespaces") != std::string::npos);
  CHECK(parse_error({"--log-level=verbose"}).find("--log-level") != std::string::npos);
  CHECK(parse_error({"--cluster-domain=-bad.local"}).find("--cluster-domain") != std::string::npos);
  CHECK(parse_error({"--leader-election-id="}).find("--leader-election-id") != std::string::npos);
  CHECK(parse_error({"--leader-election-namespace=A"}).find("--leader-election-namespace") !=
        std::string::npos);
  CHECK(parse_error({"--member-image-repository=repo@sha256:x"}).find("--member-image-repository") !=
        std::string::npos);
  CHECK(parse_error({"--default-member-version=a:b"}).find("--default-member-version") != std::string::npos);
}
