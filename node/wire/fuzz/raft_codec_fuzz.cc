// Decodes arbitrary bytes as every Raft codec type, share fetch and forwarded read; whatever decodes must
// re-encode to an equal value.
#include <cstdint>
#include <cstdlib>

#include "etsecd/wire/forwarded_read.h"
#include "etsecd/wire/raft_codec.h"
#include "etsecd/wire/share_fetch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto m = etsecd::wire::decode_message(in); m.ok()) {
    auto again = etsecd::wire::decode_message(etsecd::wire::as_bytes(etsecd::wire::encode_message(*m)));
    if (!again.ok() || !(*again == *m)) std::abort();
  }
  if (auto e = etsecd::wire::decode_entry(in); e.ok()) {
    auto again = etsecd::wire::decode_entry(etsecd::wire::as_bytes(etsecd::wire::encode_entry(*e)));
    if (!again.ok() || !(*again == *e)) std::abort();
  }
  if (auto r = etsecd::wire::decode_share_fetch_request(in); r.ok()) {
    auto again = etsecd::wire::decode_share_fetch_request(
        etsecd::wire::as_bytes(etsecd::wire::encode_share_fetch_request(*r)));
    if (!again.ok() || !(*again == *r)) std::abort();
  }
  if (auto r = etsecd::wire::decode_share_fetch_response(in); r.ok()) {
    auto again = etsecd::wire::decode_share_fetch_response(
        etsecd::wire::as_bytes(etsecd::wire::encode_share_fetch_response(*r)));
    if (!again.ok() || !(*again == *r)) std::abort();
  }
  if (auto r = etsecd::wire::decode_forwarded_read(in); r.ok()) {
    auto again =
        etsecd::wire::decode_forwarded_read(etsecd::wire::as_bytes(etsecd::wire::encode_forwarded_read(*r)));
    if (!again.ok() || !(*again == *r)) std::abort();
  }
  (void)etsecd::wire::decode_hard_state(in);
  (void)etsecd::wire::decode_membership(in);
  return 0;
}
