#pragma once
// Structured JSON-lines logging: one object per line with "level", "ts" (UTC, RFC 3339 with
// microseconds), "msg" and the fields, flattened like etcd's zap output. Thread-safe: each line is
// formatted by the caller and handed to the sink whole, under one lock, so lines never interleave.

#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/log/field.h"

namespace etsecd::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

const char* to_string(Level level);
// "debug", "info", "warn", "error". Code: log.bad_level.
Result<Level> parse_level(std::string_view text);

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;  // `line` ends in '\n'
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // A default clock is the system clock.
  explicit Logger(Sink sink, Level min_level = Level::kInfo, Clock clock = {});

  void set_level(Level level);
  Level level() const;
  bool enabled(Level level) const;

  void log(Level level, std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void debug(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    log(Level::kDebug, msg, fields);
  }
  void info(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    log(Level::kInfo, msg, fields);
  }
  void warn(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    log(Level::kWarn, msg, fields);
  }
  void error(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    log(Level::kError, msg, fields);
  }

  // A logger that adds `fields` to every line (e.g. {"member", name}); shares sink, level and clock.
  Logger with(std::initializer_list<Field> fields) const;

 private:
  struct Shared {
    Sink sink;
    Clock clock;
    std::atomic<int> level;
    std::mutex mu;
  };
  Logger(std::shared_ptr<Shared> shared, std::vector<Field> bound);

  std::shared_ptr<Shared> shared_;
  std::vector<Field> bound_;
};

// Writes each line to standard error with one write(2).
Logger::Sink stderr_sink();

// JSON string escaping; invalid UTF-8 becomes U+FFFD so a line always parses.
std::string json_escape(std::string_view text);

}  // namespace etsecd::log
