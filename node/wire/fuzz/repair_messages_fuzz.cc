// Decodes arbitrary bytes as every share-repair message; whatever decodes must re-encode to an equal value.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "etsecd/wire/repair_messages.h"

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <class Decode, class Encode>
void round_trip(std::span<const uint8_t> in, Decode decode, Encode encode) {
  if (auto m = decode(in); m.ok()) {
    const std::string again_bytes = encode(*m);
    auto again = decode(bytes_of(again_bytes));
    if (!again.ok() || !(*again == *m)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace etsecd::wire;
  std::span<const uint8_t> in(data, size);
  round_trip(in, decode_repair_shares_request, encode_repair_shares_request);
  round_trip(in, decode_repair_shares_response, encode_repair_shares_response);
  round_trip(in, decode_repair_begin_request, encode_repair_begin_request);
  round_trip(in, decode_repair_begin_response, encode_repair_begin_response);
  round_trip(in, decode_repair_chunk_request, encode_repair_chunk_request);
  round_trip(in, decode_repair_finish_request, encode_repair_finish_request);
  return 0;
}
