#include "runtime_tuning.h"

#include <absl/synchronization/mutex.h>

namespace etsecd::node {

void tune_runtime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::EnableMutexInvariantDebugging(false);
}

}  // namespace etsecd::node
