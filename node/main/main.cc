// etsecd-node: one member of an etsecd cluster.
//   etsecd-node [flags]                          run a member (see --help)
//   etsecd-node inspect --data-dir DIR [--prefix P]   print what a stopped member stores

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "etsecd/api/etcd_api_server.h"
#include "etsecd/config/describe.h"
#include "etsecd/config/load.h"
#include "etsecd/log/logger.h"
#include "etsecd/observability/http_server.h"
#include "etsecd/observability/metrics.h"
#include "etsecd/server/errors.h"
#include "etsecd/server/member.h"
#include "hardening.h"
#include "inspect.h"
#include "runtime_tuning.h"
#include "version.h"

namespace etsecd::node {
namespace {

log::Level to_log_level(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::kDebug:
      return log::Level::kDebug;
    case config::LogLevel::kInfo:
      return log::Level::kInfo;
    case config::LogLevel::kWarn:
      return log::Level::kWarn;
    case config::LogLevel::kError:
      return log::Level::kError;
  }
  return log::Level::kInfo;
}

// Everything /metrics shows. Names follow etcd's where the meaning is the same.
struct NodeMetrics {
  explicit NodeMetrics(metrics::Registry& r)
      : term(r.gauge("etsecd_server_term", "The member's current Raft term.")),
        commit(r.gauge("etsecd_server_commit_index", "The member's Raft commit index.")),
        applied(r.gauge("etsecd_server_apply_index", "The last Raft index applied to the key-value store.")),
        has_leader(r.gauge("etsecd_server_has_leader", "1 when a leader is known, else 0.")),
        is_leader(r.gauge("etsecd_server_is_leader", "1 when this member is the leader, else 0.")),
        revision(r.gauge("etsecd_mvcc_revision", "The key-value store's current revision.")),
        counters(r.counter_family("etsecd_events_total", "Member events by kind (proposals, corrupt_shares).",
                                  {"kind"})),
        latency(r.histogram_family("etsecd_request_duration_seconds",
                                   "Latency of client operations and of share fetches, by operation.", {"op"},
                                   metrics::latency_buckets_seconds())) {}

  void refresh(const server::MemberStatus& s) {
    term.set(static_cast<double>(s.term));
    commit.set(static_cast<double>(s.commit));
    applied.set(static_cast<double>(s.applied));
    has_leader.set(s.leader != 0 ? 1 : 0);
    is_leader.set(s.is_leader ? 1 : 0);
    revision.set(static_cast<double>(s.revision));
  }

  metrics::Gauge& term;
  metrics::Gauge& commit;
  metrics::Gauge& applied;
  metrics::Gauge& has_leader;
  metrics::Gauge& is_leader;
  metrics::Gauge& revision;
  metrics::Family<metrics::Counter>& counters;
  metrics::Family<metrics::Histogram>& latency;
};

int run(const config::Config& cfg, const std::vector<std::string>& warnings) {
  log::Logger logger([](std::string_view line) { std::cerr << line << std::flush; },
                     to_log_level(cfg.log_level));
  logger = logger.with({{"member", cfg.name}});
  for (const auto& w : warnings) logger.warn(w);
  std::cerr << config::describe(cfg) << std::flush;

  metrics::Registry registry;
  NodeMetrics m(registry);

  server::MemberOptions o;
  o.name = cfg.name;
  o.data_dir = cfg.data_dir;
  for (const auto& im : cfg.initial_cluster) o.initial_cluster.push_back({im.name, im.peer_url.str()});
  o.cluster_token = cfg.initial_cluster_token;
  o.join_existing = cfg.initial_cluster_state == config::ClusterState::kExisting;
  for (const auto& im : cfg.initial_cluster) {
    if (im.name == cfg.name) o.advertise_peer_url = im.peer_url.str();
  }
  // A member not in --initial-cluster joins under its own advertised peer URL (what `member add` got).
  if (!cfg.in_initial_cluster) o.advertise_peer_url = cfg.initial_advertise_peer_urls.front().str();
  o.fingerprint = config::cluster_fingerprint(cfg);
  o.threshold = cfg.threshold;
  o.commit_quorum = cfg.commit_quorum_explicit ? cfg.commit_quorum : 0;  // 0: default per voter count
  o.listen_peer_address = cfg.listen_peer_urls.front().host_port();
  if (cfg.peer_tls.enabled()) {
    o.peer_tls =
        transport::TlsFiles{cfg.peer_tls.cert_file, cfg.peer_tls.key_file, cfg.peer_tls.trusted_ca_file};
  }
  o.insecure_peer = cfg.insecure_peer;
  o.heartbeat_interval = std::chrono::milliseconds(cfg.heartbeat_interval_ms);
  o.snapshot_count = cfg.snapshot_count;
  o.election_timeout = std::chrono::milliseconds(cfg.election_timeout_ms);
  o.share_cache_bytes = cfg.inflight_share_cache_bytes;
  o.limits.max_request_bytes = cfg.max_request_bytes;
  o.version = kVersion;
  for (const auto& u : cfg.advertise_client_urls) o.advertise_client_urls.push_back(u.str());
  o.logger = &logger;

  server::MemberMetrics mm;
  mm.observe = [&m](const char* op, double seconds) { m.latency.with({op}).observe(seconds); };
  mm.count = [&m](const char* kind, uint64_t n) { m.counters.with({kind}).inc(n); };

  auto member = server::Member::start(o, mm);
  if (!member) {
    logger.error("cannot start member", {{"error", member.error().message}});
    return mvcc::is(member.error(), server::kMemberDataLost) ? server::kExitMemberDataLost : 1;
  }

  api::ApiServerOptions a;
  for (const auto& u : cfg.listen_client_urls) a.listen_addresses.push_back(u.host_port());
  a.tls = cfg.client_tls.enabled();
  a.cert_file = cfg.client_tls.cert_file;
  a.key_file = cfg.client_tls.key_file;
  a.trusted_ca_file = cfg.client_tls.trusted_ca_file;
  a.client_cert_auth = cfg.client_tls.client_cert_auth;
  a.max_request_bytes = cfg.max_request_bytes;
  a.version = kVersion;
  auto api_server = api::EtcdApiServer::start(**member, a);
  if (!api_server) {
    logger.error("cannot start the client API", {{"error", api_server.error().message}});
    (*member)->stop();
    return 1;
  }

  std::vector<std::unique_ptr<observability::HttpServer>> http;
  for (const auto& u : cfg.listen_metrics_urls) {
    observability::HttpEndpoints e;
    server::Member* mp = member->get();
    e.metrics = [&m, &registry, mp] {
      m.refresh(mp->status());
      return registry.render();
    };
    e.ready = [mp] { return mp->status().ready; };
    e.healthy = [mp] { return mp->status().leader != 0; };
    auto h = observability::HttpServer::start(u.str(), std::move(e));
    if (!h) {
      logger.error("cannot start the metrics listener", {{"error", h.error().message}});
      (*api_server)->shutdown();
      (*member)->stop();
      return 1;
    }
    http.push_back(std::move(*h));
  }
  // A removed member stops like on SIGTERM (the handler runs on the member's loop: it only signals).
  (*member)->set_removed_handler([] { ::kill(::getpid(), SIGTERM); });
  logger.info("serving clients", {{"urls", std::to_string(cfg.listen_client_urls.size())}});

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  logger.info("stopping", {{"signal", sig}});
  http.clear();
  (*api_server)->shutdown();
  (*member)->stop();
  if ((*member)->removed()) {
    // Its shares are useless to the cluster now (its share index is never reused) and, with k-1 others,
    // all an attacker needs: delete them. The operator deletes the volume (PVC) too.
    if (auto st = server::wipe_shares(cfg.data_dir); !st) {
      logger.error("removed from the cluster, but wiping the shares failed", {{"error", st.error().message}});
      return 1;
    }
    logger.info("removed from the cluster: shares wiped, exiting", {{"data_dir", cfg.data_dir}});
  }
  return 0;
}

}  // namespace
}  // namespace etsecd::node

int main(int argc, char** argv) {
  using namespace etsecd;
  node::harden_process();
  node::tune_runtime();
  // Block the stop signals in every thread; main() waits for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "inspect") {
    return node::run_inspect(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  auto inv = config::load(args, config::process_environment());
  if (!inv) {
    std::cerr << "etsecd-node: " << inv.error().message << "\n";
    return 2;
  }
  switch (inv->action) {
    case config::Invocation::Action::kHelp:
      std::cout << config::help_text();
      return 0;
    case config::Invocation::Action::kVersion:
      std::cout << "etsecd-node " << node::kVersion << "\n";
      return 0;
    case config::Invocation::Action::kRun:
      break;
  }
  return node::run(inv->config, inv->warnings);
}
