#pragma once
// Argument checks shared by the Shamir operations, so every entry point reports the same error codes.

#include <cstdint>
#include <span>

#include "etsecd/common/result.h"
#include "etsecd/shamir/shamir.h"

namespace etsecd::shamir::validate {

// split: 2 <= k <= n <= 255 and the xs are distinct and non-zero.
Status split_params(unsigned k, std::span<const uint8_t> xs);

// combine/repair_at/consistent: k >= 2, at least k shares, and the first `checked` of them have distinct
// non-zero xs and equal lengths.
Status shares(std::span<const ShareView> shares, unsigned k, size_t checked);

Status nonzero_x(uint8_t x);

}  // namespace etsecd::shamir::validate
