#include "etsecd/wire/forwarded_read.h"

#include "value_ref_io.h"

namespace etsecd::wire {
namespace {

using detail::check_version;
using detail::finish;
using detail::get_ref;
using detail::malformed;
using detail::put_ref;
using detail::Reader;
using detail::Writer;

constexpr uint8_t kVersion = 1;

}  // namespace

std::string encode_forwarded_read(const ForwardedRead& read) {
  Writer w;
  w.u8(kVersion);
  w.bytes(read.request);
  w.varint(read.shares.size());
  for (const auto& s : read.shares) {
    put_ref(w, s.ref);
    w.bytes(s.share);
  }
  return w.take();
}

Result<ForwardedRead> decode_forwarded_read(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, "forwarded read"); !v) return v.error();
  ForwardedRead read;
  uint64_t n = 0;
  if (!r.bytes(read.request) || !r.count(n)) return malformed("forwarded read");
  read.shares.resize(n);
  for (auto& s : read.shares) {
    if (!get_ref(r, s.ref) || !r.bytes(s.share)) return malformed("forwarded read");
  }
  return finish(r, std::move(read), "forwarded read");
}

}  // namespace etsecd::wire
