#include "etsecd/log/logger.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace etsecd::log {
namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += std::isnan(v) ? "\"NaN\"" : (v > 0 ? "\"+Inf\"" : "\"-Inf\"");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ec == std::errc() ? end : buf);
}

template <class Int>
void append_integer(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_field(std::string& out, const Field& f) {
  out += ",\"";
  out += json_escape(f.key());
  out += "\":";
  std::visit(
      [&out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, double>) {
          append_number(out, v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          out += '"';
          out += json_escape(v);
          out += '"';
        } else {
          append_integer(out, v);
        }
      },
      f.value());
}

std::string timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  long frac = static_cast<long>(micros % 1000000);
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // roomy enough for any int fields, so nothing is ever truncated
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

}  // namespace

const char* to_string(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

Result<Level> parse_level(std::string_view text) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == to_string(l)) return l;
  }
  return make_error("log.bad_level",
                    "unknown log level \"" + std::string(text) + "\" (use debug, info, warn or error)");
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    unsigned char c = static_cast<unsigned char>(text.front());
    std::size_t n = utf8_sequence(text);
    if (n == 0) {
      out += "\\ufffd";
      text.remove_prefix(1);
      continue;
    }
    if (n == 1) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

Logger::Logger(Sink sink, Level min_level, Clock clock) : shared_(std::make_shared<Shared>()) {
  shared_->sink = std::move(sink);
  shared_->clock = clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); });
  shared_->level.store(static_cast<int>(min_level), std::memory_order_relaxed);
}

Logger::Logger(std::shared_ptr<Shared> shared, std::vector<Field> bound)
    : shared_(std::move(shared)), bound_(std::move(bound)) {}

void Logger::set_level(Level level) {
  shared_->level.store(static_cast<int>(level), std::memory_order_relaxed);
}

Level Logger::level() const { return static_cast<Level>(shared_->level.load(std::memory_order_relaxed)); }

bool Logger::enabled(Level level) const { return static_cast<int>(level) >= static_cast<int>(this->level()); }

void Logger::log(Level level, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!enabled(level)) return;
  std::string line = "{\"level\":\"";
  line += to_string(level);
  line += "\",\"ts\":\"";
  line += timestamp(shared_->clock());
  line += "\",\"msg\":\"";
  line += json_escape(msg);
  line += '"';
  for (const Field& f : bound_) append_field(line, f);
  for (const Field& f : fields) append_field(line, f);
  line += "}\n";
  std::lock_guard lock(shared_->mu);
  shared_->sink(line);
}

Logger Logger::with(std::initializer_list<Field> fields) const {
  std::vector<Field> bound = bound_;
  bound.insert(bound.end(), fields.begin(), fields.end());
  return Logger(shared_, std::move(bound));
}

Logger::Sink stderr_sink() {
  return [](std::string_view line) {
    while (!line.empty()) {
      ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
      if (n <= 0) return;  // nowhere left to report a failing stderr
      line.remove_prefix(static_cast<std::size_t>(n));
    }
  };
}

}  // namespace etsecd::log
