#include "etsecd/kube/reflector.h"

#include <doctest/doctest.h>

#include "etsecd/kube/errors.h"

using namespace etsecd::kube;
using Kind = ReflectorAction::Kind;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {
const BackoffPolicy kPolicy{milliseconds(100), milliseconds(1000), 2.0, 0.0};

WatchEvent event(WatchEventType type, const std::string& rv) {
  return WatchEvent{type, json{{"metadata", {{"name", "x"}, {"resourceVersion", rv}}}}};
}
WatchEvent error_event(int code, const std::string& reason, const std::string& message) {
  return WatchEvent{WatchEventType::kError,
                    json{{"kind", "Status"}, {"code", code}, {"reason", reason}, {"message", message}}};
}
}  // namespace

TEST_CASE("list, then watch from the list's version, resuming from the last event or bookmark") {
  ReflectorState s(kPolicy, 1);
  CHECK(s.next().kind == Kind::kList);
  CHECK(s.next().delay == milliseconds(0));
  s.on_list_succeeded("100");
  CHECK(s.next().kind == Kind::kWatch);
  CHECK(s.next().resource_version == "100");
  CHECK(s.on_event(event(WatchEventType::kAdded, "101")));
  CHECK(s.on_event(event(WatchEventType::kBookmark, "120")));
  s.on_watch_ended(etsecd::Status::Ok(), milliseconds(300'000));  // server timeout: resume at once
  CHECK(s.next().kind == Kind::kWatch);
  CHECK(s.next().resource_version == "120");
  CHECK(s.next().delay == milliseconds(0));
  CHECK(s.relists() == 0);
}

TEST_CASE("410 Gone as an ERROR event or as a response forces a fresh list") {
  ReflectorState s(kPolicy, 1);
  s.on_list_succeeded("100");
  CHECK(s.on_event(event(WatchEventType::kModified, "105")));
  CHECK_FALSE(s.on_event(error_event(410, "Expired", "too old resource version: 105 (300)")));
  s.on_watch_ended(etsecd::Status::Ok(), milliseconds(5));  // the stream then closes; decision stands
  CHECK(s.next().kind == Kind::kList);
  CHECK(s.next().resource_version.empty());
  CHECK(s.next().delay == milliseconds(0));
  CHECK(s.relists() == 1);
  CHECK(s.resource_version().empty());

  s.on_list_succeeded("300");
  s.on_watch_ended(make_kube_error(ErrorKind::kGone, "HTTP 410"), milliseconds(3));
  CHECK(s.next().kind == Kind::kList);
  CHECK(s.relists() == 2);
  // Older servers send the same as a 500 with the text.
  s.on_list_succeeded("400");
  CHECK_FALSE(s.on_event(error_event(500, "InternalError", "too old resource version: 1 (400)")));
  CHECK(s.next().kind == Kind::kList);
}

TEST_CASE("transport errors back off exponentially and resume the watch; success resets") {
  ReflectorState s(kPolicy, 1);
  s.on_list_succeeded("7");
  auto transport = make_kube_error(ErrorKind::kTransport, "connection refused");
  s.on_watch_ended(transport, milliseconds(1));
  CHECK(s.next().kind == Kind::kWatch);
  CHECK(s.next().resource_version == "7");
  CHECK(s.next().delay == milliseconds(100));
  s.on_watch_ended(transport, milliseconds(1));
  CHECK(s.next().delay == milliseconds(200));
  s.on_watch_ended(transport, milliseconds(1));
  s.on_watch_ended(transport, milliseconds(1));
  s.on_watch_ended(transport, milliseconds(1));
  CHECK(s.next().delay == milliseconds(1000));  // capped
  // A productive watch resets the backoff.
  CHECK(s.on_event(event(WatchEventType::kAdded, "8")));
  s.on_watch_ended(transport, milliseconds(1));
  CHECK(s.next().delay == milliseconds(100));
  CHECK(s.next().resource_version == "8");
}

TEST_CASE("a watch that ends at once without events does not spin") {
  ReflectorState s(kPolicy, 1);
  s.on_list_succeeded("7");
  s.on_watch_ended(etsecd::Status::Ok(), milliseconds(2));
  CHECK(s.next().kind == Kind::kWatch);
  CHECK(s.next().delay == milliseconds(100));
  s.on_watch_ended(etsecd::Status::Ok(), milliseconds(2));
  CHECK(s.next().delay == milliseconds(200));
  s.on_watch_ended(etsecd::Status::Ok(), milliseconds(60'000));
  CHECK(s.next().delay == milliseconds(0));
}

TEST_CASE("list failures back off; forbidden watches relist after backoff; other ERROR events rewatch") {
  ReflectorState s(kPolicy, 1);
  s.on_list_failed(make_kube_error(ErrorKind::kForbidden, "no RBAC"));
  CHECK(s.next().kind == Kind::kList);
  CHECK(s.next().delay == milliseconds(100));
  s.on_list_failed(make_kube_error(ErrorKind::kServerError, "etcd down"));
  CHECK(s.next().delay == milliseconds(200));
  s.on_list_succeeded("9");
  CHECK(s.next().delay == milliseconds(0));
  s.on_watch_ended(make_kube_error(ErrorKind::kForbidden, "RBAC revoked"), milliseconds(1));
  CHECK(s.next().kind == Kind::kList);
  CHECK(s.next().delay == milliseconds(100));
  s.on_list_succeeded("10");
  CHECK_FALSE(s.on_event(error_event(500, "InternalError", "etcd leader changed")));
  CHECK(s.next().kind == Kind::kWatch);
  CHECK(s.next().resource_version == "10");
  CHECK(s.next().delay == milliseconds(100));
}
