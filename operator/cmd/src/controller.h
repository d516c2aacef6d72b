#pragma once
// The EtsecdCluster controller: informers feed a rate-limited work queue of "ns/name" keys; one worker
// observes, calls reconcile(), executes the plan and requeues as the plan (or a failure's backoff)
// says. One worker, so two passes over the same cluster never overlap.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "etsecd/kube/client.h"
#include "etsecd/kube/stop_signal.h"
#include "etsecd/log/logger.h"
#include "etsecd/observability/operator_metrics.h"
#include "etsecd/reconcile/observed_state.h"

namespace etsecd::operator_cmd {

// /healthz fails when the worker has not come round its loop for a while (a pass stuck on a call
// that never returns); a restart by the liveness probe is the remedy.
class WorkerHeartbeat {
 public:
  void beat();
  void stopped();
  Status check(std::chrono::steady_clock::duration limit) const;

 private:
  std::atomic<bool> running_{false};
  std::atomic<std::int64_t> last_{0};  // steady_clock ticks
};

struct ControllerOptions {
  reconcile::OperatorConfig config;
  std::vector<std::string> namespaces;  // empty = all
  std::string identity;                 // Event reporting instance (pod name)
  std::chrono::milliseconds member_call_timeout{3000};
  std::function<bool()> may_act;  // checked before every write; empty = always
  WorkerHeartbeat* heartbeat = nullptr;
};

class Controller {
 public:
  Controller(kube::Client& client, ControllerOptions options, observability::OperatorMetrics& metrics,
             const log::Logger& logger);
  // Runs informers and the worker until stop is signalled; returns once every thread has ended.
  void run(kube::StopSignal& stop);

 private:
  kube::Client& client_;
  ControllerOptions options_;
  observability::OperatorMetrics& metrics_;
  const log::Logger& logger_;
};

}  // namespace etsecd::operator_cmd
