// Decodes arbitrary bytes as a forwarded batch, its results and a forwarded frame (bytes a peer sends);
// whatever decodes must re-encode to bytes that decode to the same thing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "forward_batch_codec.h"

namespace {

using etsecd::Result;
using namespace etsecd::server;

bool same(const ForwardedRequest& a, const ForwardedRequest& b) {
  return a.method == b.method && a.body == b.body && a.time_left == b.time_left;
}

bool same(const Result<std::string>& a, const Result<std::string>& b) {
  if (a.ok() != b.ok()) return false;
  if (a.ok()) return *a == *b;
  return a.error().code == b.error().code && a.error().message == b.error().message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (auto batch = decode_forward_batch(in); batch.ok()) {
    auto again = decode_forward_batch(encode_forward_batch(*batch));
    if (!again.ok() || again->size() != batch->size()) std::abort();
    for (size_t i = 0; i < batch->size(); ++i) {
      if (!same((*batch)[i], (*again)[i])) std::abort();
    }
  }
  for (size_t expected : {size_t{1}, size_t{2}}) {
    if (auto results = decode_forward_results(in, expected); results.ok()) {
      auto again = decode_forward_results(encode_forward_results(*results), expected);
      if (!again.ok()) std::abort();
      for (size_t i = 0; i < expected; ++i) {
        if (!same((*results)[i], (*again)[i])) std::abort();
      }
    }
  }
  if (auto frame = decode_forward_frame(in); frame.ok()) {
    const std::string bytes = frame->is_result ? encode_forward_result_frame(frame->id, frame->result)
                                               : encode_forward_request_frame(frame->id, frame->request);
    auto again = decode_forward_frame(bytes);
    if (!again.ok() || again->id != frame->id || again->is_result != frame->is_result) std::abort();
    if (frame->is_result ? !same(frame->result, again->result) : !same(frame->request, again->request))
      std::abort();
  }
  return 0;
}
