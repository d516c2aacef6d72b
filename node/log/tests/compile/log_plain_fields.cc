// Control for log_rejected.cc: the same calls with plain fields compile, so a failure there is about
// the secret, not about the setup.
#include <cstdint>
#include <string>

#include "etsecd/log/logger.h"

void use(const etsecd::log::Logger& log, const etsecd::SensitiveBytes& value) {
  std::string key = "k";
  std::uint64_t revision = 7;
  log.info("put", {{"key", key}, {"revision", revision}, {"value_bytes", value.reveal().size()}});
}
