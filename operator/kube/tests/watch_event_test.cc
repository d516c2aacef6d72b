#include "etsecd/kube/watch_event.h"

#include <doctest/doctest.h>

#include "etsecd/kube/errors.h"

using namespace etsecd::kube;

namespace {
const std::string kAdded =
    R"J({"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"m-0","namespace":"db","resourceVersion":"101"}}})J";
const std::string kBookmark =
    R"J({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"150","annotations":{"k8s.io/initial-events-end":"true"}}}})J";
const std::string kExpired =
    R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 101 (180)","reason":"Expired","code":410}})J";
}  // namespace

TEST_CASE("events split across chunks at every position") {
  const std::string stream = kAdded + "\n" + kBookmark + "\r\n\n" + kExpired + "\n";
  for (std::size_t cut1 = 0; cut1 <= stream.size(); cut1 += 7) {
    for (std::size_t cut2 = cut1; cut2 <= stream.size(); cut2 += 13) {
      WatchLineDecoder decoder;
      std::vector<etsecd::Result<WatchEvent>> events;
      for (auto piece : {stream.substr(0, cut1), stream.substr(cut1, cut2 - cut1), stream.substr(cut2)}) {
        for (auto& e : decoder.feed(piece)) events.push_back(std::move(e));
      }
      CHECK(decoder.finish().empty());
      REQUIRE(events.size() == 3);
      REQUIRE(events[0].ok());
      CHECK(events[0]->type == WatchEventType::kAdded);
      CHECK(object_key(events[0]->object) == "db/m-0");
      CHECK(resource_version_of(events[0]->object) == "101");
      CHECK(events[1]->type == WatchEventType::kBookmark);
      CHECK(resource_version_of(events[1]->object) == "150");
      CHECK(events[2]->type == WatchEventType::kError);
      CHECK(error_kind(error_from_status_object(events[2]->object.dump())) == ErrorKind::kGone);
    }
  }
}

TEST_CASE("byte-by-byte feeding and a torn last line") {
  WatchLineDecoder decoder;
  std::size_t count = 0;
  for (char c : kAdded + "\n" + kAdded.substr(0, 20)) count += decoder.feed(std::string_view(&c, 1)).size();
  CHECK(count == 1);
  CHECK(decoder.buffered() == 20);
  auto rest = decoder.finish();
  REQUIRE(rest.size() == 1);
  CHECK_FALSE(rest[0].ok());  // the stream broke mid-event
  CHECK(error_kind(rest[0].error()) == ErrorKind::kDecode);
}

TEST_CASE("a bad line is reported and does not poison the next") {
  WatchLineDecoder decoder;
  auto events =
      decoder.feed("{nope\n{\"type\":\"WHAT\",\"object\":{}}\n{\"type\":\"DELETED\"}\n" + kAdded + "\n");
  REQUIRE(events.size() == 4);
  CHECK_FALSE(events[0].ok());
  CHECK_FALSE(events[1].ok());
  CHECK(events[1].error().message.find("WHAT") != std::string::npos);
  CHECK_FALSE(events[2].ok());
  REQUIRE(events[3].ok());
  CHECK(events[3]->type == WatchEventType::kAdded);
}

TEST_CASE("event type names and keys") {
  CHECK(to_string(WatchEventType::kModified) == "MODIFIED");
  CHECK(object_key(nlohmann::json{{"metadata", {{"name", "node-1"}}}}) == "node-1");
  CHECK(object_key(nlohmann::json::array()) == "");
  CHECK(resource_version_of(nlohmann::json{{"metadata", {{"resourceVersion", 5}}}}) == "");
}
