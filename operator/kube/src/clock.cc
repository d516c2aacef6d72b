#include "etsecd/kube/clock.h"

#include <cstdio>
#include <ctime>

namespace etsecd::kube {
namespace {

std::string format(std::chrono::system_clock::time_point t, bool micro) {
  using namespace std::chrono;
  auto since = t.time_since_epoch();
  auto secs = duration_cast<seconds>(since);
  if (since < secs) secs -= seconds(1);  // floor for times before the epoch
  auto micros = duration_cast<microseconds>(since - secs).count();
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  if (micro) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

}  // namespace

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::string format_micro_time(std::chrono::system_clock::time_point t) { return format(t, true); }
std::string format_time(std::chrono::system_clock::time_point t) { return format(t, false); }

}  // namespace etsecd::kube
