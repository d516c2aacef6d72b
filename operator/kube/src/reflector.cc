#include "etsecd/kube/reflector.h"

#include "etsecd/kube/errors.h"

namespace etsecd::kube {
namespace {
// A watch that ends sooner than this without delivering anything is treated as a failure, so that a
// server that closes watches at once is not hammered in a tight loop.
constexpr std::chrono::milliseconds kMinHealthyWatch{1000};
}  // namespace

ReflectorState::ReflectorState(BackoffPolicy policy, std::uint64_t seed) : backoff_(policy, seed) {
  next_ = {ReflectorAction::Kind::kList, "", std::chrono::milliseconds(0)};
}

void ReflectorState::relist_now() {
  ++relists_;
  resource_version_.clear();  // a consistent read: the old version is gone
  next_ = {ReflectorAction::Kind::kList, "", std::chrono::milliseconds(0)};
}

void ReflectorState::relist_after_backoff() {
  ++relists_;
  next_ = {ReflectorAction::Kind::kList, "", backoff_.next()};
}

void ReflectorState::rewatch(std::chrono::milliseconds delay) {
  if (resource_version_.empty()) {
    next_ = {ReflectorAction::Kind::kList, "", delay};
    return;
  }
  next_ = {ReflectorAction::Kind::kWatch, resource_version_, delay};
}

void ReflectorState::on_list_succeeded(const std::string& resource_version) {
  backoff_.reset();
  resource_version_ = resource_version;
  saw_event_ = false;
  abandoned_ = false;
  rewatch(std::chrono::milliseconds(0));
}

void ReflectorState::on_list_failed(const Error& /*error*/) {
  next_ = {ReflectorAction::Kind::kList, "", backoff_.next()};
}

bool ReflectorState::on_event(const WatchEvent& event) {
  if (event.type == WatchEventType::kError) {
    Error error = error_from_status_object(event.object.dump());
    abandoned_ = true;
    if (saw_event_) backoff_.reset();
    saw_event_ = false;
    switch (error_kind(error)) {
      case ErrorKind::kGone:
        relist_now();
        break;
      case ErrorKind::kNotFound:
      case ErrorKind::kForbidden:
      case ErrorKind::kUnauthorized:
        relist_after_backoff();
        break;
      default:
        rewatch(backoff_.next());
        break;
    }
    return false;
  }
  std::string rv = resource_version_of(event.object);
  if (!rv.empty()) resource_version_ = rv;
  saw_event_ = true;
  return true;
}

void ReflectorState::on_watch_ended(const Status& status, std::chrono::milliseconds watch_duration) {
  bool productive = saw_event_;
  saw_event_ = false;
  if (abandoned_) {  // an ERROR event already decided
    abandoned_ = false;
    return;
  }
  if (status.ok()) {
    if (productive || watch_duration >= kMinHealthyWatch) {
      backoff_.reset();
      rewatch(std::chrono::milliseconds(0));
    } else {
      rewatch(backoff_.next());
    }
    return;
  }
  if (productive) backoff_.reset();
  switch (error_kind(status.error())) {
    case ErrorKind::kGone:
      relist_now();
      break;
    case ErrorKind::kNotFound:
    case ErrorKind::kForbidden:
    case ErrorKind::kUnauthorized:
    case ErrorKind::kDecode:
      relist_after_backoff();
      break;
    default:  // transport, timeouts, 5xx, 429, cancelled: resume where we were
      rewatch(backoff_.next());
      break;
  }
}

}  // namespace etsecd::kube
