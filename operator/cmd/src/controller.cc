#include "controller.h"

#include <thread>

#include "caches.h"
#include "etsecd/kube/client_adapters.h"
#include "etsecd/kube/events.h"
#include "etsecd/kube/work_queue.h"
#include "etsecd/reconcile/reconcile.h"
#include "observe.h"
#include "plan_executor.h"

namespace etsecd::operator_cmd {
namespace {

std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace

void WorkerHeartbeat::beat() {
  last_.store(std::chrono::steady_clock::now().time_since_epoch().count());
  running_.store(true);
}

void WorkerHeartbeat::stopped() { running_.store(false); }

Status WorkerHeartbeat::check(std::chrono::steady_clock::duration limit) const {
  if (!running_.load()) return Status::Ok();  // not leading: nothing to be stuck
  auto last = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_.load()));
  auto idle = std::chrono::steady_clock::now() - last;
  if (idle <= limit) return Status::Ok();
  return make_error("operator.stalled",
                    "the reconcile worker has been stuck for " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle).count()) +
                        " s");
}

Controller::Controller(kube::Client& client, ControllerOptions options,
                       observability::OperatorMetrics& metrics, const log::Logger& logger)
    : client_(client), options_(std::move(options)), metrics_(metrics), logger_(logger) {}

void Controller::run(kube::StopSignal& stop) {
  kube::WorkQueue queue;
  Caches caches(client_, options_.namespaces, queue, [this](const std::string& resource, const Error& e) {
    metrics_.watch_error(resource);
    logger_.warn("list/watch failed; retrying",
                 {{"resource", resource}, {"code", e.code}, {"error", e.message}});
  });
  kube::ClientEventSink sink(client_);
  kube::EventRecorder events(sink, "etsecd-operator", options_.identity);

  std::uint64_t wake = stop.add_callback([&queue] { queue.shut_down(); });
  caches.start(stop);
  logger_.info("waiting for caches to sync");
  if (caches.wait_for_sync(stop)) {
    logger_.info("caches synced; reconciling",
                 {{"clusters", static_cast<std::uint64_t>(caches.cluster_keys().size())}});
  }

  while (!stop.stopped()) {
    if (options_.heartbeat) options_.heartbeat->beat();
    metrics_.set_queue_depth(static_cast<double>(queue.depth()));
    auto key = queue.get_for(std::chrono::seconds(1));
    if (!key) continue;
    auto started = std::chrono::steady_clock::now();
    auto [ns, name] = split_key(*key);
    const log::Logger cluster_log = logger_.with({{"cluster", *key}});
    std::string error_code;
    std::optional<std::chrono::seconds> requeue_after;
    bool failed = false;

    auto observed = observe_cluster(client_, caches, options_.config, ns, name, options_.member_call_timeout);
    if (!observed.ok()) {
      failed = true;
      error_code = observed.error().code;
      cluster_log.warn("observe failed",
                       {{"code", observed.error().code}, {"error", observed.error().message}});
    } else if (!observed->has_value()) {
      cluster_log.debug("EtsecdCluster is gone");
    } else {
      Observation& obs = **observed;
      if (!obs.state.member_list.available)
        cluster_log.debug("member list unavailable", {{"why", obs.state.member_list.error}});
      reconcile::Plan plan = reconcile::reconcile(obs.state, std::chrono::system_clock::now());
      cluster_log.info("plan", {{"actions", static_cast<std::uint64_t>(plan.actions.size())},
                                {"requeue", reconcile::to_string(plan.requeue.reason)},
                                {"message", plan.requeue.message}});
      ExecutionContext ctx{client_,           events,           obs.members.get(),
                           obs.state.cluster, options_.may_act, cluster_log};
      ExecutionResult result = execute_plan(plan, ctx);
      if (!result.status.ok()) {
        failed = true;
        error_code = result.status.error().code;
        cluster_log.warn("reconcile failed", {{"code", error_code},
                                              {"error", result.status.error().message},
                                              {"done", static_cast<std::uint64_t>(result.done)}});
      } else {
        requeue_after = plan.requeue.after;
      }
    }

    if (failed) {
      queue.add_rate_limited(*key);
    } else {
      queue.forget(*key);
      if (requeue_after) queue.add_after(*key, *requeue_after);
    }
    queue.done(*key);
    metrics_.reconcile_finished(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), error_code);
  }
  if (options_.heartbeat) options_.heartbeat->stopped();
  stop.remove_callback(wake);
  queue.shut_down();
  caches.join();
  logger_.info("controller stopped");
}

}  // namespace etsecd::operator_cmd
