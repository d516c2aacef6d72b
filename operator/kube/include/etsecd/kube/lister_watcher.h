#pragma once
// What an informer needs from the API: list one page of a collection and stream a watch. The HTTP
// client implements it (client_adapters.h); tests script it.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/kube/options.h"
#include "etsecd/kube/stop_signal.h"
#include "etsecd/kube/watch_event.h"

namespace etsecd::kube {

class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;
  // One page: a List object with items, metadata.resourceVersion and metadata.continue.
  virtual Result<nlohmann::json> list(const ListOptions& options) = 0;
  // Streams events to on_event until the server ends the watch (Ok), an error occurs, on_event returns
  // false (Ok), or stop is signalled (kCancelled).
  virtual Status watch(const WatchOptions& options, const std::function<bool(const WatchEvent&)>& on_event,
                       StopSignal& stop) = 0;
};

}  // namespace etsecd::kube
