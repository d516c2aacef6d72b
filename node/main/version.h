#pragma once
namespace etsecd::node {
#ifndef ETSECD_VERSION
#define ETSECD_VERSION "0.0.0-dev"
#endif
inline constexpr const char* kVersion = ETSECD_VERSION;
}  // namespace etsecd::node
