#include "etsecd/log/logger.h"

#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace etsecd::log;

namespace {

struct Capture {
  std::vector<std::string> lines;
  Logger::Sink sink() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

std::chrono::system_clock::time_point fixed_time() {
  // 2026-11-22T15:40:10.123456Z
  return std::chrono::system_clock::time_point(std::chrono::microseconds(1795362010123456LL));
}

}  // namespace

TEST_CASE("a line is one JSON object with level, ts, msg and the fields") {
  Capture c;
  Logger log(c.sink(), Level::kInfo, fixed_time);
  log.info("applied", {{"index", 42},
                       {"term", std::uint64_t{7}},
                       {"leader", true},
                       {"ratio", 0.5},
                       {"member", "m1"},
                       {"neg", -3}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0] ==
        "{\"level\":\"info\",\"ts\":\"2026-11-22T15:40:10.123456Z\",\"msg\":\"applied\",\"index\":42,"
        "\"term\":7,"
        "\"leader\":true,\"ratio\":0.5,\"member\":\"m1\",\"neg\":-3}\n");
}

TEST_CASE("levels filter and can change at run time") {
  Capture c;
  Logger log(c.sink(), Level::kWarn, fixed_time);
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0].find("\"level\":\"warn\"") != std::string::npos);
  CHECK(c.lines[1].find("\"level\":\"error\"") != std::string::npos);
  log.set_level(Level::kDebug);
  log.debug("d");
  CHECK(c.lines.size() == 3);
  CHECK(log.enabled(Level::kDebug));
}

TEST_CASE("parse_level") {
  CHECK(parse_level("debug").value() == Level::kDebug);
  CHECK(parse_level("error").value() == Level::kError);
  auto bad = parse_level("verbose");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "log.bad_level");
}

TEST_CASE("bound fields come first and are shared by child loggers") {
  Capture c;
  Logger root(c.sink(), Level::kInfo, fixed_time);
  Logger member = root.with({{"member", "m2"}});
  Logger raft = member.with({{"component", "raft"}});
  raft.info("x", {{"term", 3}});
  root.set_level(Level::kError);
  raft.info("filtered by the root's level");
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("\"msg\":\"x\",\"member\":\"m2\",\"component\":\"raft\",\"term\":3}") !=
        std::string::npos);
}

TEST_CASE("escaping keeps every line valid JSON") {
  CHECK(json_escape("plain") == "plain");
  CHECK(json_escape("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(json_escape("l1\nl2\t\r") == "l1\\nl2\\t\\r");
  CHECK(json_escape(std::string_view("\x01\x1f\x7f", 3)) == "\\u0001\\u001f\\u007f");
  CHECK(json_escape("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(json_escape("\xff") == "\\ufffd");
  CHECK(json_escape("\xc3") == "\\ufffd");                        // truncated
  CHECK(json_escape("\xc0\xaf") == "\\ufffd\\ufffd");             // overlong
  CHECK(json_escape("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // surrogate
  CHECK(json_escape(std::string_view("\0", 1)) == "\\u0000");
  Capture c;
  Logger log(c.sink(), Level::kInfo, fixed_time);
  log.info("m\"sg", {{"k\n", "v\x80"}, {"inf", 1.0 / 0.0}});
  CHECK(c.lines[0].find("\"msg\":\"m\\\"sg\",\"k\\n\":\"v\\ufffd\",\"inf\":\"+Inf\"}") != std::string::npos);
}

TEST_CASE("concurrent logging never interleaves lines") {
  std::mutex mu;
  std::vector<std::string> lines;
  // The sink itself is not thread-safe: the logger must serialise calls to it.
  std::string scratch;
  Logger log(
      [&](std::string_view line) {
        scratch.assign(line);
        std::lock_guard lock(mu);
        lines.push_back(scratch);
      },
      Level::kInfo);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      Logger mine = log.with({{"thread", t}});
      for (int i = 0; i < 500; ++i) mine.info("tick", {{"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(lines.size() == 2000);
  for (const std::string& l : lines) {
    CHECK(l.front() == '{');
    CHECK(l.substr(l.size() - 2) == "}\n");
  }
}
