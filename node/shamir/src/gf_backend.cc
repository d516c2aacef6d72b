// Runtime choice of the GF(2^8) kernel set: the fastest the CPU supports unless a test or benchmark
// selects another.

#include <array>
#include <atomic>

#include "cpu_features.h"
#include "etsecd/shamir/backend.h"
#include "gf256_kernels.h"

namespace etsecd::shamir {
namespace {

struct Supported {
  std::array<GfBackend, 4> list{};
  size_t count = 0;
};

const Supported& supported_list() {
  static const Supported s = [] {
    Supported out;
    for (GfBackend b : {GfBackend::kPortable, GfBackend::kSsse3, GfBackend::kAvx2, GfBackend::kGfniAvx2}) {
      if (supported(b)) out.list[out.count++] = b;
    }
    return out;
  }();
  return s;
}

std::atomic<GfBackend>& active_slot() {
  static std::atomic<GfBackend> slot{supported_list().list[supported_list().count - 1]};
  return slot;
}

}  // namespace

const char* name(GfBackend backend) {
  switch (backend) {
    case GfBackend::kPortable:
      return "portable";
    case GfBackend::kSsse3:
      return "ssse3";
    case GfBackend::kAvx2:
      return "avx2";
    case GfBackend::kGfniAvx2:
      return "gfni-avx2";
  }
  return "unknown";
}

bool supported(GfBackend backend) {
  switch (backend) {
    case GfBackend::kPortable:
      return true;
    case GfBackend::kSsse3:
      return cpu::has_ssse3();
    case GfBackend::kAvx2:
      return cpu::has_avx2();
    case GfBackend::kGfniAvx2:
      return cpu::has_gfni_avx2();
  }
  return false;
}

std::span<const GfBackend> supported_gf_backends() {
  const Supported& s = supported_list();
  return {s.list.data(), s.count};
}

GfBackend active_gf_backend() { return active_slot().load(std::memory_order_relaxed); }

Status select_gf_backend(GfBackend backend) {
  if (!supported(backend)) {
    return make_error("shamir.unsupported_backend",
                      std::string("this CPU cannot run the ") + name(backend) + " GF(2^8) backend");
  }
  active_slot().store(backend, std::memory_order_relaxed);
  return Status::Ok();
}

namespace kernels {
const Kernels& for_backend(GfBackend backend) {
  switch (backend) {
    case GfBackend::kSsse3:
      return kSsse3;
    case GfBackend::kAvx2:
      return kAvx2;
    case GfBackend::kGfniAvx2:
      return kGfniAvx2;
    case GfBackend::kPortable:
      break;
  }
  return kPortable;
}

const Kernels& active() { return for_backend(active_gf_backend()); }
}  // namespace kernels

}  // namespace etsecd::shamir
