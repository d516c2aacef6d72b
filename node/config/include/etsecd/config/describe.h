#pragma once
// What a member prints at start: its settings and the fault tolerances they give.

#include <string>

#include "etsecd/config/config.h"

namespace etsecd::config {

// Multi-line, human-readable; names no secret (TLS file paths only, never their contents).
std::string describe(const Config& config);

}  // namespace etsecd::config
