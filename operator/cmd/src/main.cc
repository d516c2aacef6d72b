// etsecd-operator: flags, Kubernetes config, /metrics and /healthz, Lease leader election, and the
// EtsecdCluster controller. SIGTERM/SIGINT stop the controller first and then release the Lease, so
// the next leader never overlaps with this one.
#include <pthread.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "controller.h"
#include "etsecd/kube/client.h"
#include "etsecd/kube/client_adapters.h"
#include "etsecd/kube/config.h"
#include "etsecd/kube/leader_election.h"
#include "etsecd/kube/stop_signal.h"
#include "etsecd/log/logger.h"
#include "etsecd/observability/http_server.h"
#include "etsecd/observability/metrics.h"
#include "etsecd/observability/operator_metrics.h"
#include "flags.h"

#ifndef ETSECD_VERSION
#define ETSECD_VERSION "0.0.0"
#endif

namespace {

using namespace etsecd;
using operator_cmd::Flags;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string identity() {
  std::string pod = env_or("POD_NAME", "");
  if (!pod.empty()) return pod;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "_%08x", static_cast<unsigned>(rd()));
  return std::string(host) + suffix;
}

// The controller runs on its own thread while this replica leads; stop_and_wait() ends it.
class ControllerThread {
 public:
  explicit ControllerThread(std::function<void(kube::StopSignal&)> body) : body_(std::move(body)) {}
  ~ControllerThread() { stop_and_wait(); }
  void start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    thread_ = std::thread([this] {
      body_(stop_);
      std::lock_guard l(mu_);
      finished_ = true;
      cv_.notify_all();
    });
  }
  // Safe from any thread, any number of times.
  void stop_and_wait() {
    stop_.stop();
    std::unique_lock lock(mu_);
    if (!thread_.joinable()) return;
    cv_.wait(lock, [this] { return finished_; });
    if (thread_.get_id() != std::this_thread::get_id()) {
      std::thread t = std::move(thread_);
      lock.unlock();
      t.join();
    }
  }

 private:
  std::function<void(kube::StopSignal&)> body_;
  kube::StopSignal stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool finished_ = false;
};

int run(const Flags& flags) {
  // Blocked before any thread starts (so every thread inherits it); one thread takes them by sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto level = log::parse_level(flags.log_level);
  log::Logger logger(log::stderr_sink(), level.ok() ? *level : log::Level::kInfo);

  auto config =
      flags.kubeconfig.empty() ? kube::load_default_config() : kube::kubeconfig_from_files(flags.kubeconfig);
  if (!config.ok()) {
    logger.error("no Kubernetes configuration",
                 {{"code", config.error().code}, {"error", config.error().message}});
    return 1;
  }
  logger.info("Kubernetes API", {{"server", config->server}, {"source", config->source}});
  std::string default_ns = config->default_namespace;
  // Lease calls get their own client with a short timeout, well under the renew deadline.
  kube::ClientOptions lease_options;
  lease_options.request_timeout = std::chrono::seconds(5);
  auto lease_client = kube::Client::create(*config, lease_options);
  auto client = kube::Client::create(std::move(*config));
  if (!client.ok() || !lease_client.ok()) {
    logger.error("cannot create the API client",
                 {{"error", client.ok() ? lease_client.error().message : client.error().message}});
    return 1;
  }

  metrics::Registry registry;
  observability::OperatorMetrics metrics(registry);
  operator_cmd::WorkerHeartbeat heartbeat;
  std::unique_ptr<observability::HttpServer> metrics_server;
  if (flags.metrics) {
    const std::string address = flags.metrics->host + ":" + std::to_string(flags.metrics->port);
    observability::HttpEndpoints endpoints;
    endpoints.metrics = [&registry] { return registry.render(); };
    endpoints.ready = [] { return true; };
    endpoints.healthy = [&heartbeat, &logger] {
      Status st = heartbeat.check(std::chrono::minutes(3));
      if (!st.ok()) logger.warn("liveness check failed", {{"error", st.error().message}});
      return st.ok();
    };
    auto server = observability::HttpServer::start("http://" + address, std::move(endpoints));
    if (!server.ok()) {
      logger.error("cannot serve metrics", {{"address", address}, {"error", server.error().message}});
      return 1;
    }
    metrics_server = std::move(*server);
    logger.info("serving /metrics and /healthz", {{"address", address}});
  }

  operator_cmd::ControllerOptions options;
  options.config.member_image_repository = flags.member_image_repository;
  options.config.default_version = flags.default_member_version;
  options.config.cluster_domain = flags.cluster_domain;
  options.namespaces = flags.watch_namespaces;
  options.identity = identity();
  options.heartbeat = &heartbeat;

  kube::StopSignal shutdown;
  std::unique_ptr<kube::LeaderElector> elector;
  std::unique_ptr<kube::ClientLeaseStore> lease_store;
  if (flags.leader_elect) {
    std::string lease_ns = flags.leader_election_namespace;
    if (lease_ns.empty()) lease_ns = env_or("POD_NAMESPACE", default_ns);
    lease_store =
        std::make_unique<kube::ClientLeaseStore>(**lease_client, lease_ns, flags.leader_election_id);
    kube::LeaderElectionConfig le;
    le.identity = options.identity;
    if (Status st = kube::validate(le); !st.ok()) {
      logger.error("bad leader election settings", {{"error", st.error().message}});
      return 1;
    }
    elector = std::make_unique<kube::LeaderElector>(le, *lease_store);
    kube::LeaderElector* e = elector.get();
    options.may_act = [e] { return e->is_leader(); };
    logger.info("leader election",
                {{"lease", lease_ns + "/" + flags.leader_election_id}, {"identity", options.identity}});
  }

  operator_cmd::Controller controller(**client, options, metrics, logger);
  ControllerThread controller_thread([&controller](kube::StopSignal& stop) { controller.run(stop); });

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (shutdown.stopped()) return;  // woken by our own SIGTERM at exit
    logger.info("signal received; stopping", {{"signal", sig}});
    controller_thread.stop_and_wait();  // no write happens after this
    shutdown.stop();                    // then the Lease is released
  });

  int exit_code = 0;
  if (elector) {
    kube::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [&] {
      logger.info("became leader");
      metrics.set_leader(true);
      controller_thread.start();
    };
    callbacks.on_stopped_leading = [&] {
      controller_thread.stop_and_wait();
      metrics.set_leader(false);
      logger.info("stopped leading");
    };
    callbacks.on_new_leader = [&](const std::string& who) { logger.info("leader", {{"identity", who}}); };
    kube::run_leader_election(*elector, callbacks, shutdown);
    if (!shutdown.stopped()) {
      // Lost the lease without being asked to stop: exit so that a fresh process competes again.
      logger.error("lost leadership");
      exit_code = 1;
    } else {
      logger.info("lease released");
    }
  } else {
    metrics.set_leader(true);
    controller_thread.start();
    shutdown.wait_for(std::chrono::hours(24 * 365 * 100));
  }

  controller_thread.stop_and_wait();
  if (!shutdown.stopped()) {
    shutdown.stop();
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  metrics_server.reset();
  logger.info("exiting", {{"code", exit_code}});
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = operator_cmd::parse_command_line(args);
  if (!parsed.ok()) {
    std::cerr << "etsecd-operator: " << parsed.error().message << "\n";
    return 2;
  }
  switch (parsed->command) {
    case operator_cmd::Command::kHelp:
      std::cout << operator_cmd::usage();
      return 0;
    case operator_cmd::Command::kVersion:
      std::cout << "etsecd-operator " << ETSECD_VERSION << "\n";
      return 0;
    case operator_cmd::Command::kRun:
      break;
  }
  return run(parsed->flags);
}
