#pragma once
// Which instruction-set implementation the codec runs on. At start-up the fastest one the CPU supports
// is chosen; every backend gives identical bytes. Selecting one by hand is for tests (which compare the
// paths) and benchmarks; it affects the whole process and is not meant to race with codec calls.

#include <span>

#include "etsecd/common/result.h"

namespace etsecd::shamir {

// GF(2^8) vector arithmetic used by split, combine, repair_at, consistent and refresh.
enum class GfBackend { kPortable, kSsse3, kAvx2, kGfniAvx2 };
// CRC32C used by the share encoding.
enum class CrcBackend { kPortable, kSse42 };

const char* name(GfBackend backend);
const char* name(CrcBackend backend);

bool supported(GfBackend backend);
bool supported(CrcBackend backend);

// All backends this CPU can run, slowest first (the portable one is always there).
std::span<const GfBackend> supported_gf_backends();

GfBackend active_gf_backend();
CrcBackend active_crc_backend();

// Errors: shamir.unsupported_backend when this CPU lacks the instructions.
Status select_gf_backend(GfBackend backend);
Status select_crc_backend(CrcBackend backend);

}  // namespace etsecd::shamir
