#include "etsecd/kube/events.h"

#include <doctest/doctest.h>

#include "etsecd/kube/errors.h"

using namespace etsecd::kube;
using nlohmann::json;

namespace {

class RecordingSink final : public EventSink {
 public:
  std::vector<std::pair<std::string, json>> created;
  std::vector<std::tuple<std::string, std::string, json>> patched;
  bool patch_not_found = false;

  etsecd::Result<json> create_event(const std::string& ns, const json& event) override {
    created.emplace_back(ns, event);
    return event;
  }
  etsecd::Result<json> patch_event(const std::string& ns, const std::string& name,
                                   const json& patch) override {
    patched.emplace_back(ns, name, patch);
    if (patch_not_found) return make_kube_error(ErrorKind::kNotFound, "events \"x\" not found");
    return patch;
  }
};

const json kCluster = {
    {"apiVersion", "etsecd.io/v1alpha1"},
    {"kind", "EtsecdCluster"},
    {"metadata", {{"name", "c1"}, {"namespace", "db"}, {"uid", "u-1"}, {"resourceVersion", "9"}}}};

}  // namespace

TEST_CASE("an event is created with its involved object, then repeats bump its count") {
  RecordingSink sink;
  ManualClock clock;
  EventRecorder recorder(sink, "etsecd-operator", "etsecd-operator-7d9f-abc", clock);
  auto ref = ObjectReference::from_object(kCluster);
  CHECK(ref.kind == "EtsecdCluster");
  CHECK(ref.uid == "u-1");
  REQUIRE(
      recorder.record(ref, EventType::kWarning, "ZoneLeakRisk", "zone a holds 3 of 5 members (k=3)").ok());
  REQUIRE(sink.created.size() == 1);
  const auto& [ns, event] = sink.created[0];
  CHECK(ns == "db");
  CHECK(event["kind"] == "Event");
  CHECK(event["metadata"]["namespace"] == "db");
  CHECK(event["metadata"]["name"].get<std::string>().rfind("c1.", 0) == 0);
  CHECK(event["involvedObject"]["kind"] == "EtsecdCluster");
  CHECK(event["involvedObject"]["uid"] == "u-1");
  CHECK(event["reason"] == "ZoneLeakRisk");
  CHECK(event["type"] == "Warning");
  CHECK(event["count"] == 1);
  CHECK(event["source"]["component"] == "etsecd-operator");
  CHECK(event["reportingInstance"] == "etsecd-operator-7d9f-abc");
  CHECK(event["firstTimestamp"] == event["lastTimestamp"]);

  clock.advance(std::chrono::seconds(30));
  REQUIRE(
      recorder.record(ref, EventType::kWarning, "ZoneLeakRisk", "zone a holds 3 of 5 members (k=3)").ok());
  REQUIRE(
      recorder.record(ref, EventType::kWarning, "ZoneLeakRisk", "zone a holds 3 of 5 members (k=3)").ok());
  CHECK(sink.created.size() == 1);
  REQUIRE(sink.patched.size() == 2);
  CHECK(std::get<1>(sink.patched[1]) == event["metadata"]["name"]);
  CHECK(std::get<2>(sink.patched[1])["count"] == 3);
  CHECK(std::get<2>(sink.patched[1])["lastTimestamp"] != event["firstTimestamp"]);

  // A different message is a different event.
  REQUIRE(
      recorder.record(ref, EventType::kWarning, "ZoneLeakRisk", "zone b holds 3 of 5 members (k=3)").ok());
  CHECK(sink.created.size() == 2);
}

TEST_CASE("an expired event is created anew; cluster-scoped objects report to default") {
  RecordingSink sink;
  ManualClock clock;
  EventRecorder recorder(sink, "etsecd-operator", "", clock, 1);
  auto ref = ObjectReference::from_object(kCluster);
  REQUIRE(recorder.record(ref, EventType::kNormal, "Created", "created StatefulSet c1").ok());
  sink.patch_not_found = true;
  clock.advance(std::chrono::hours(2));
  REQUIRE(recorder.record(ref, EventType::kNormal, "Created", "created StatefulSet c1").ok());
  CHECK(sink.created.size() == 2);
  CHECK(sink.created[1].second["count"] == 1);

  ObjectReference node{"v1", "Node", "", "n1", "", ""};
  REQUIRE(recorder.record(node, EventType::kNormal, "Seen", std::string(5000, 'x')).ok());
  CHECK(sink.created.back().first == "default");
  CHECK(sink.created.back().second["message"].get<std::string>().size() == 1024);

  // cache_size 1: the cluster's event was evicted, so it is created again rather than patched.
  sink.patch_not_found = false;
  REQUIRE(recorder.record(ref, EventType::kNormal, "Created", "created StatefulSet c1").ok());
  CHECK(sink.created.size() == 4);

  CHECK_FALSE(recorder.record(ObjectReference{}, EventType::kNormal, "X", "y").ok());
  CHECK_FALSE(recorder.record(ref, EventType::kNormal, "", "y").ok());
}
