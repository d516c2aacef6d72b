// Decodes arbitrary bytes as a Raft stream preamble and as frames (what a peer's connection delivers),
// fed whole and in two pieces: both must give the same frames, and those frames must re-encode to the
// bytes they came from.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "stream_frames.h"

using namespace etsecd::transport::stream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  size_t used = 0;
  if (auto p = decode_preamble(in, &used); p.ok() && p->has_value()) {
    if (encode_preamble(**p) != in.substr(0, used)) std::abort();
  }
  FrameDecoder whole(4096), split(4096);
  std::vector<Frame> a, b;
  const auto st = whole.feed(in, a);
  const size_t cut = size == 0 ? 0 : data[0] % size;
  auto st2 = split.feed(std::string_view(in).substr(0, cut), b);
  if (st2) st2 = split.feed(std::string_view(in).substr(cut), b);
  if (st.ok() != st2.ok()) std::abort();
  if (!st.ok()) return 0;
  if (a.size() != b.size()) std::abort();
  std::string again;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].payload != b[i].payload) std::abort();
    append_frames(again, a[i].kind, {a[i].payload});
  }
  if (in.compare(0, again.size(), again) != 0 || whole.buffered() != in.size() - again.size()) std::abort();
  return 0;
}
