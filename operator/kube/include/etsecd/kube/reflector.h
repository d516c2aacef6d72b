#pragma once
// The list+watch state machine (client-go's Reflector without the I/O): decides whether to list or to
// watch next, from which resourceVersion, and after what delay. Watches resume from the last version
// seen (events and bookmarks); 410 Gone / "too old resource version" forces a fresh list; errors back
// off exponentially with jitter.

#include <chrono>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/kube/backoff.h"
#include "etsecd/kube/watch_event.h"

namespace etsecd::kube {

struct ReflectorAction {
  enum class Kind { kList, kWatch };
  Kind kind = Kind::kList;
  std::string resource_version;        // for kWatch: resume point
  std::chrono::milliseconds delay{0};  // wait this long before doing it
};

class ReflectorState {
 public:
  explicit ReflectorState(BackoffPolicy policy = {}, std::uint64_t seed = std::random_device{}());

  ReflectorAction next() const { return next_; }

  void on_list_succeeded(const std::string& resource_version);
  void on_list_failed(const Error& error);
  // Every event of the current watch, in order. Returns false when the watch must be abandoned (an
  // ERROR event); next() then says what to do.
  bool on_event(const WatchEvent& event);
  // The watch stream ended: cleanly (server timeout) or with an error. watch_duration lets a watch that
  // ends at once without any event back off instead of spinning.
  void on_watch_ended(const Status& status, std::chrono::milliseconds watch_duration);

  const std::string& resource_version() const { return resource_version_; }
  int relists() const { return relists_; }

 private:
  void relist_now();
  void relist_after_backoff();
  void rewatch(std::chrono::milliseconds delay);

  Backoff backoff_;
  std::string resource_version_;
  ReflectorAction next_;
  bool saw_event_ = false;
  bool abandoned_ = false;  // set by an ERROR event; on_watch_ended keeps its decision
  int relists_ = 0;
};

}  // namespace etsecd::kube
