// Stands in for etsecd-node in the local-cluster process test until the real binary exists: it takes a
// member's flags through the real etsecd_config (so a flag the script builds wrong fails here exactly
// as it would in the node), logs describe() through etsecd_log, and serves /metrics, /health and
// /readyz through etsecd_http. It runs no Raft and is never installed.
//
// STAND_IN_IGNORE_SIGTERM=1 makes it ignore SIGTERM so the test can check the SIGKILL fallback.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "etsecd/config/describe.h"
#include "etsecd/config/flags.h"
#include "etsecd/config/load.h"
#include "etsecd/log/logger.h"
#include "etsecd/observability/http_server.h"
#include "etsecd/observability/metrics.h"

int main(int argc, char** argv) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  const char* ignore = std::getenv("STAND_IN_IGNORE_SIGTERM");
  if (ignore != nullptr && std::string(ignore) == "1") {
    signal(SIGTERM, SIG_IGN);
    sigdelset(&stop, SIGTERM);
  }
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread starts, so all inherit it

  etsecd::log::Logger log(etsecd::log::stderr_sink());
  auto inv = etsecd::config::load(argc, argv);
  if (!inv) {
    log.error("invalid configuration", {{"code", inv.error().code}, {"error", inv.error().message}});
    return 2;
  }
  for (const std::string& w : inv->warnings) log.warn(w);
  if (inv->action == etsecd::config::Invocation::Action::kHelp) {
    std::fputs(etsecd::config::help_text().c_str(), stdout);
    return 0;
  }
  if (inv->action == etsecd::config::Invocation::Action::kVersion) {
    std::puts("etsecd-node stand-in (tests only)");
    return 0;
  }
  const etsecd::config::Config& config = inv->config;
  log.info("stand-in member starting",
           {{"member", config.name}, {"settings", etsecd::config::describe(config)}});
  if (config.listen_metrics_urls.empty()) {
    log.error("the stand-in needs --listen-metrics-urls");
    return 2;
  }
  etsecd::metrics::Registry registry;
  registry.gauge("etsecd_share_index", "This member's share index.").set(config.share_index);
  auto server = etsecd::observability::HttpServer::start(
      config.listen_metrics_urls[0].str(),
      {[&registry] { return registry.render(); }, [] { return true; }, [] { return true; }});
  if (!server) {
    log.error("cannot serve metrics", {{"error", server.error().message}});
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  log.info("stopping", {{"signal", signal_number}});
  return 0;
}
