// Each case must fail to compile: the logger has no way to print a value or a share.
#include <cstdint>
#include <iostream>
#include <vector>

#include "etsecd/log/logger.h"

void use(const etsecd::log::Logger& log, const etsecd::SensitiveBytes& value) {
#if defined(ETSECD_CASE_secret_field)
  log.info("put", {{"value", value}});
#elif defined(ETSECD_CASE_secret_stream)
  std::cout << value;
  (void)log;
#elif defined(ETSECD_CASE_byte_buffer_field)
  const std::vector<std::uint8_t>& bytes = value.reveal();
  log.info("put", {{"value", bytes}});
#endif
}
