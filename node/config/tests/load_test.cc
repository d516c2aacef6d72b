#include "etsecd/config/load.h"

#include <doctest/doctest.h>

#include "etsecd/config/describe.h"
#include "test_args.h"

using namespace etsecd::config;
using namespace etsecd::config::testing;

TEST_CASE("a valid invocation gives the settings and defaults") {
  auto r = run(base_args());
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  const Config& c = r->config;
  CHECK(r->action == Invocation::Action::kRun);
  CHECK(c.name == "m2");
  CHECK(c.data_dir == "m2.etsecd");
  CHECK(c.share_index == 2);
  CHECK(c.voters() == 3);
  CHECK(c.threshold == 2);
  CHECK(c.commit_quorum == 3);  // ceil((3+2)/2)
  CHECK(c.initial_cluster_state == ClusterState::kNew);
  CHECK(c.initial_cluster_token == "etsecd-cluster");
  CHECK(c.max_request_bytes == 1572864);
  CHECK(c.snapshot_count == 10000);
  CHECK(c.heartbeat_interval_ms == 100);
  CHECK(c.election_timeout_ms == 1000);
  CHECK(c.inflight_share_cache_bytes == 64ull << 20);
  CHECK(c.log_level == LogLevel::kInfo);
  CHECK(c.insecure_peer);
  CHECK_FALSE(c.client_tls.enabled());
  CHECK(c.listen_metrics_urls.empty());
  REQUIRE(c.initial_cluster.size() == 3);
  CHECK(c.initial_cluster[0].name == "m1");
  CHECK(c.initial_cluster[2].share_index == 3);
  CHECK(c.initial_cluster[1].peer_url.port == 2480);
  // --insecure-peer is loud.
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].find("INSECURE") != std::string::npos);
}

TEST_CASE("every value can be set") {
  auto args = base_args();
  for (const char* a :
       {"--data-dir=/var/lib/x", "--initial-cluster-state=existing", "--initial-cluster-token=tok",
        "--commit-quorum=2", "--share-index=7", "--listen-metrics-urls=http://127.0.0.1:9100",
        "--max-request-bytes=1000", "--snapshot-count=5", "--heartbeat-interval=50", "--election-timeout=250",
        "--inflight-share-cache-bytes=2000", "--log-level=debug"}) {
    args = with(args, a);
  }
  auto r = run(args);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  const Config& c = r->config;
  CHECK(c.data_dir == "/var/lib/x");
  CHECK(c.initial_cluster_state == ClusterState::kExisting);
  CHECK(c.initial_cluster_token == "tok");
  CHECK(c.commit_quorum == 2);
  CHECK(c.share_index == 7);  // existing cluster: the given index
  REQUIRE(c.listen_metrics_urls.size() == 1);
  CHECK(c.listen_metrics_urls[0].port == 9100);
  CHECK(c.max_request_bytes == 1000);
  CHECK(c.snapshot_count == 5);
  CHECK(c.heartbeat_interval_ms == 50);
  CHECK(c.election_timeout_ms == 250);
  CHECK(c.inflight_share_cache_bytes == 2000);
  CHECK(c.log_level == LogLevel::kDebug);
}

TEST_CASE("an existing cluster without --share-index leaves it to the data directory") {
  auto r = run(with(base_args(), "--initial-cluster-state=existing"));
  REQUIRE(r.ok());
  CHECK(r->config.share_index == 0);
  CHECK(describe(r->config).find("share index: from the data directory") != std::string::npos);
}

TEST_CASE("a member not named in --initial-cluster is a joining member, whatever the cluster state") {
  auto args = with(base_args(), "--name=m4");
  args = with(args, "--listen-peer-urls=http://127.0.0.1:2680");
  args = with(args, "--initial-advertise-peer-urls=http://127.0.0.1:2680");
  auto r = run(args);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK_FALSE(r->config.in_initial_cluster);
  CHECK(r->config.share_index == 0);  // the cluster gives it one when it joins
  CHECK(r->config.initial_cluster_state == ClusterState::kNew);
  auto initial = run(base_args());
  REQUIRE(initial.ok());
  CHECK(initial->config.in_initial_cluster);
}

TEST_CASE("help and version skip validation") {
  auto help = run({"--help"});
  REQUIRE(help.ok());
  CHECK(help->action == Invocation::Action::kHelp);
  auto version = run({"--version", "--threshold=99"});
  REQUIRE(version.ok());
  CHECK(version->action == Invocation::Action::kVersion);
}

TEST_CASE("environment overrides defaults, flags override the environment") {
  Environment env{
      {"ETSECD_LOG_LEVEL", "warn"}, {"ETSECD_THRESHOLD", "3"}, {"ETSECD_INITIAL_CLUSTER_TOKEN", "env-tok"}};
  auto r = run(without(base_args(), "threshold"), env);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->config.log_level == LogLevel::kWarn);
  CHECK(r->config.threshold == 3);
  CHECK(r->config.commit_quorum == 3);
  CHECK(r->config.initial_cluster_token == "env-tok");
  auto flag_wins = run(base_args(), env);
  REQUIRE(flag_wins.ok());
  CHECK(flag_wins->config.threshold == 2);
  // A whole configuration from the environment alone.
  Environment all{{"ETSECD_NAME", "m1"},
                  {"ETSECD_LISTEN_CLIENT_URLS", "http://127.0.0.1:1"},
                  {"ETSECD_ADVERTISE_CLIENT_URLS", "http://127.0.0.1:1"},
                  {"ETSECD_LISTEN_PEER_URLS", "http://127.0.0.1:2"},
                  {"ETSECD_INITIAL_ADVERTISE_PEER_URLS", "http://127.0.0.1:2"},
                  {"ETSECD_INITIAL_CLUSTER", "m1=http://127.0.0.1:2,m2=http://127.0.0.1:3"},
                  {"ETSECD_THRESHOLD", "2"},
                  {"ETSECD_INSECURE_PEER", "true"}};
  auto from_env = run({}, all);
  REQUIRE_MESSAGE(from_env.ok(), (from_env.ok() ? "" : from_env.error().message));
  CHECK(from_env->config.share_index == 1);
  CHECK(from_env->config.commit_quorum == 2);
  // Errors name the variable, not a flag the user never typed.
  Environment bad = all;
  bad["ETSECD_THRESHOLD"] = "two";
  auto err = run({}, bad);
  REQUIRE_FALSE(err.ok());
  CHECK(err.error().code == "config.bad_number");
  CHECK(err.error().message.find("ETSECD_THRESHOLD") != std::string::npos);
}

TEST_CASE("every validation error has its code and names the problem") {
  struct Case {
    std::vector<std::string> args;
    std::string code;
    std::string fragment;  // must appear in the message
  };
  const auto b = base_args();
  const Case cases[] = {
      {without(b, "name"), "config.missing", "--name"},
      {with(b, "--name="), "config.missing", "--name"},
      {with(b, "--name=a,b"), "config.bad_choice", "may not contain"},
      {with(b, "--data-dir="), "config.missing", "--data-dir"},
      {without(b, "listen-client-urls"), "config.missing", "--listen-client-urls"},
      {without(b, "advertise-client-urls"), "config.missing", "--advertise-client-urls"},
      {without(b, "listen-peer-urls"), "config.missing", "--listen-peer-urls"},
      {without(b, "initial-advertise-peer-urls"), "config.missing", "--initial-advertise-peer-urls"},
      {without(b, "initial-cluster"), "config.missing", "--initial-cluster"},
      {without(b, "threshold"), "config.missing", "--threshold"},
      {with(b, "--listen-client-urls=http://127.0.0.1"), "config.bad_url", "--listen-client-urls"},
      {with(b, "--listen-metrics-urls=http//x:1"), "config.bad_url", "--listen-metrics-urls"},
      {with(b, "--initial-cluster=m1"), "config.bad_initial_cluster", "not name=peer-url"},
      {with(b, "--initial-cluster==http://127.0.0.1:1"), "config.bad_initial_cluster", "not name=peer-url"},
      {with(b, "--initial-cluster=m1=http://127.0.0.1:1,"), "config.bad_initial_cluster",
       "not name=peer-url"},
      {with(b, "--initial-cluster=m1=http://127.0.0.1:1,m2=nope"), "config.bad_url", "--initial-cluster"},
      {with(b, "--initial-cluster=m2=http://127.0.0.1:2480,m2=http://127.0.0.1:2481"),
       "config.duplicate_member", "\"m2\" appears twice"},
      {with(b, "--initial-cluster=m1=http://127.0.0.1:2480,m2=http://127.0.0.1:2480"),
       "config.duplicate_peer_url", "http://127.0.0.1:2480"},
      {with(b, "--initial-cluster-state=old"), "config.bad_choice", "new or existing"},
      {with(b, "--initial-cluster-token="), "config.missing", "--initial-cluster-token"},
      {with(b, "--threshold=1"), "config.threshold_range", "2 <= k <= 3"},
      {with(b, "--threshold=4"), "config.threshold_range", "2 <= k <= 3"},
      {with(b, "--threshold=-1"), "config.bad_number", "--threshold"},
      {with(b, "--threshold=2x"), "config.bad_number", "not a whole number"},
      {with(b, "--commit-quorum=1"), "config.commit_quorum_range", "allowed 2 <= W <= 3"},
      {with(b, "--commit-quorum=4"), "config.commit_quorum_range", "allowed 2 <= W <= 3"},
      {with(b, "--commit-quorum="), "config.bad_number", "--commit-quorum"},
      {with(b, "--max-request-bytes=0"), "config.bad_number", "out of range"},
      {with(b, "--snapshot-count=0"), "config.bad_number", "--snapshot-count"},
      {with(b, "--heartbeat-interval=0"), "config.bad_number", "--heartbeat-interval"},
      {with(b, "--election-timeout=60000"), "config.bad_number", "--election-timeout"},
      {with(b, "--election-timeout=400"), "config.timing", "at least 5 times"},
      {with(b, "--inflight-share-cache-bytes=100"), "config.cache_too_small", "at least 3145728"},
      {with(b, "--log-level=loud"), "config.bad_choice", "debug, info, warn or error"},
      {with(b, "--name=m9"), "config.peer_url_mismatch", "is m2's there"},
      {with(b, "--initial-advertise-peer-urls=http://127.0.0.1:2481"), "config.peer_url_mismatch",
       "http://127.0.0.1:2480"},
      {with(b, "--share-index=3"), "config.share_index_mismatch", "position 2"},
      {with(b, "--share-index=0"), "config.bad_number", "1..255"},
      {with(b, "--share-index=256"), "config.bad_number", "1..255"},
      {with(b, "--listen-client-urls=https://127.0.0.1:2479"), "config.scheme_mismatch", "no --cert-file"},
      {with(b, "--advertise-client-urls=https://127.0.0.1:2479"), "config.scheme_mismatch",
       "--advertise-client-urls"},
      {with(b, "--listen-peer-urls=https://127.0.0.1:2480"), "config.scheme_mismatch", "--insecure-peer"},
      {with(
           with(b, "--initial-advertise-peer-urls=https://127.0.0.1:2480"),
           "--initial-cluster=m1=https://127.0.0.1:2380,m2=https://127.0.0.1:2480,m3=https://127.0.0.1:2580"),
       "config.scheme_mismatch", "--initial-advertise-peer-urls"},
      {with(b,
            "--initial-cluster=m1=https://127.0.0.1:2380,m2=http://127.0.0.1:2480,m3=http://127.0.0.1:2580"),
       "config.scheme_mismatch", "--initial-cluster"},
      {with(b, "--listen-metrics-urls=https://127.0.0.1:9100"), "config.scheme_mismatch",
       "--listen-metrics-urls"},
      {with(b, "--cert-file=/x"), "config.tls_incomplete", "--key-file"},
      {with(b, "--key-file=/x"), "config.tls_incomplete", "--cert-file"},
      {with(b, "--trusted-ca-file=/x"), "config.tls_incomplete", "need --cert-file"},
      {with(b, "--client-cert-auth"), "config.tls_incomplete", "need --cert-file"},
      {with(b, "--peer-cert-file=/x"), "config.tls_incomplete", "--peer-key-file"},
      {with(with(b, "--peer-cert-file=/x"), "--peer-key-file=/y"), "config.tls_conflict", "--insecure-peer"},
      {with(b, "--peer-trusted-ca-file=/x"), "config.tls_conflict", "--insecure-peer"},
      {without(b, "insecure-peer"), "config.tls_incomplete", "mutual TLS"},
      {with(b, "--insecure-peer=false"), "config.tls_incomplete", "mutual TLS"},
      {with(b, "--bogus"), "config.unknown_flag", "--bogus"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    CAPTURE(joined);
    auto r = run(c.args);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == c.code);
    CHECK_MESSAGE(r.error().message.find(c.fragment) != std::string::npos, r.error().message);
  }
}

TEST_CASE("lowering W below the default is allowed and described as a trade-off") {
  auto args = with(with(with(base_args(),
                             "--initial-cluster=m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2480,"
                             "m3=http://127.0.0.1:2580,m4=http://127.0.0.1:2680,"
                             "m5=http://127.0.0.1:2780"),
                        "--threshold=3"),
                   "--commit-quorum=3");
  auto r = run(args);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  std::string text = describe(r->config);
  CHECK(text.find("commit quorum W: 3, allowed 3..5") != std::string::npos);
  CHECK(text.find("writes tolerate: 2 members down (n-W)") != std::string::npos);
  CHECK(text.find("reads right after commit tolerate: 0 members down (W-k)") != std::string::npos);
  CHECK(text.find("reads once fully replicated tolerate: 2 members down (n-k)") != std::string::npos);
  CHECK(text.find("may wait for them to return") != std::string::npos);
}

TEST_CASE("describe prints the settings and the default-quorum tolerances") {
  auto args = with(with(base_args(),
                        "--initial-cluster=m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2480,"
                        "m3=http://127.0.0.1:2580,m4=http://127.0.0.1:2680,m5=http://127.0.0.1:2780"),
                   "--threshold=3");
  auto r = run(args);
  REQUIRE(r.ok());
  std::string text = describe(r->config);
  CHECK(text.find("etsecd member m2") != std::string::npos);
  CHECK(text.find("share index: 2") != std::string::npos);
  CHECK(text.find("commit quorum W: 4 (default), allowed 3..5") != std::string::npos);
  CHECK(text.find("writes tolerate: 1 members down") != std::string::npos);
  CHECK(text.find("reads right after commit tolerate: 1 members down") != std::string::npos);
  CHECK(text.find("reads once fully replicated tolerate: 2 members down") != std::string::npos);
  CHECK(text.find("peer tls: OFF") != std::string::npos);
  CHECK(text.find("cluster fingerprint: ") != std::string::npos);
  CHECK(text.find("may wait") == std::string::npos);
}
