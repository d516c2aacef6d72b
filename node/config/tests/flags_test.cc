#include "etsecd/config/flags.h"

#include <doctest/doctest.h>

#include <set>

#include "test_args.h"

using namespace etsecd::config;
using namespace etsecd::config::testing;

TEST_CASE("every flag in the brief exists, has an env twin and is documented in --help") {
  const char* expected[] = {"name",
                            "data-dir",
                            "listen-client-urls",
                            "advertise-client-urls",
                            "listen-peer-urls",
                            "initial-advertise-peer-urls",
                            "initial-cluster",
                            "initial-cluster-state",
                            "initial-cluster-token",
                            "cert-file",
                            "key-file",
                            "trusted-ca-file",
                            "client-cert-auth",
                            "peer-cert-file",
                            "peer-key-file",
                            "peer-trusted-ca-file",
                            "peer-client-cert-auth",
                            "threshold",
                            "commit-quorum",
                            "listen-metrics-urls",
                            "share-index",
                            "insecure-peer",
                            "max-request-bytes",
                            "snapshot-count",
                            "heartbeat-interval",
                            "election-timeout",
                            "inflight-share-cache-bytes",
                            "log-level",
                            "version",
                            "help"};
  std::set<std::string_view> names;
  for (const FlagSpec& spec : flag_specs()) names.insert(spec.name);
  const std::string help = help_text();
  for (const char* name : expected) {
    CAPTURE(name);
    CHECK(names.count(name) == 1);
    const std::string entry = "  --" + std::string(name);
    CHECK((help.find(entry + "\n") != std::string::npos || help.find(entry + " ") != std::string::npos));
  }
  for (const FlagSpec& spec : flag_specs()) {
    CAPTURE(spec.name);
    CHECK(!spec.help.empty());
    if (spec.kind != FlagKind::kAction) CHECK(help.find(env_name(spec.name)) != std::string::npos);
  }
  CHECK(names.size() == std::size(expected));
  CHECK(env_name("initial-cluster-token") == "ETSECD_INITIAL_CLUSTER_TOKEN");
  CHECK(help.find("default 1572864") != std::string::npos);
}

TEST_CASE("both --flag=value and --flag value, one or two dashes") {
  std::vector<std::string> args = {"--name", "a", "-data-dir=/d", "--threshold", "3", "--client-cert-auth"};
  auto f = parse_flags(args, {});
  REQUIRE(f.ok());
  CHECK(f->values.at("name").text == "a");
  CHECK(f->values.at("data-dir").text == "/d");
  CHECK(f->values.at("threshold").text == "3");
  CHECK(f->values.at("client-cert-auth").text == "true");
  CHECK(f->values.at("name").source == "--name");
}

TEST_CASE("booleans follow Go flag rules") {
  auto f = parse_flags(std::vector<std::string>{"--insecure-peer=false", "--client-cert-auth=1"}, {});
  REQUIRE(f.ok());
  CHECK(f->values.at("insecure-peer").text == "false");
  CHECK(f->values.at("client-cert-auth").text == "true");
  // A boolean never swallows the next argument.
  auto g = parse_flags(std::vector<std::string>{"--client-cert-auth", "true"}, {});
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().code == "config.unexpected_argument");
  auto h = parse_flags(std::vector<std::string>{"--client-cert-auth=yes"}, {});
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().code == "config.bad_bool");
  CHECK(h.error().message.find("--client-cert-auth") != std::string::npos);
}

TEST_CASE("flag syntax errors") {
  using V = std::vector<std::string>;
  CHECK(parse_flags(V{"--nope=1"}, {}).error().code == "config.unknown_flag");
  CHECK(parse_flags(V{"--nope=1"}, {}).error().message.find("--nope") != std::string::npos);
  CHECK(parse_flags(V{"--name"}, {}).error().code == "config.missing_value");
  CHECK(parse_flags(V{"--name=a", "--name=b"}, {}).error().code == "config.duplicate_flag");
  CHECK(parse_flags(V{"stray"}, {}).error().code == "config.unexpected_argument");
  CHECK(parse_flags(V{"--"}, {}).error().code == "config.unexpected_argument");
  CHECK(parse_flags(V{"--help=1"}, {}).error().code == "config.unexpected_argument");
  auto help = parse_flags(V{"--help"}, {});
  REQUIRE(help.ok());
  CHECK(help->help);
  auto version = parse_flags(V{"--version"}, {});
  REQUIRE(version.ok());
  CHECK(version->version);
}

TEST_CASE("environment fills in, flags win") {
  Environment env{
      {"ETSECD_NAME", "from-env"}, {"ETSECD_THRESHOLD", "3"}, {"ETSECD_CLIENT_CERT_AUTH", "true"}};
  auto f = parse_flags(std::vector<std::string>{"--name=from-flag"}, env);
  REQUIRE(f.ok());
  CHECK(f->values.at("name").text == "from-flag");
  CHECK(f->values.at("threshold").text == "3");
  CHECK(f->values.at("threshold").source == "ETSECD_THRESHOLD");
  CHECK(f->values.at("client-cert-auth").text == "true");
  CHECK(f->warnings.empty());
}

TEST_CASE("environment errors and warnings") {
  auto bad = parse_flags(std::vector<std::string>{}, Environment{{"ETSECD_INSECURE_PEER", "maybe"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "config.bad_bool");
  CHECK(bad.error().message.find("ETSECD_INSECURE_PEER") != std::string::npos);
  auto unknown =
      parse_flags(std::vector<std::string>{}, Environment{{"ETSECD_TRESHOLD", "3"}, {"HOME", "/"}});
  REQUIRE(unknown.ok());
  REQUIRE(unknown->warnings.size() == 1);
  CHECK(unknown->warnings[0].find("ETSECD_TRESHOLD") != std::string::npos);
  // --help and --version are never read from the environment.
  auto help = parse_flags(std::vector<std::string>{}, Environment{{"ETSECD_HELP", "true"}});
  REQUIRE(help.ok());
  CHECK_FALSE(help->help);
  CHECK(help->warnings.size() == 1);
}
