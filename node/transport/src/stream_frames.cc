#include "stream_frames.h"

namespace etsecd::transport::stream {
namespace {

constexpr std::string_view kMagic = "ETSECD-RAFT/1\n";
constexpr size_t kMaxFingerprint = 1024;
constexpr size_t kFrameHeader = 5;

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
uint64_t get_be(std::string_view in, size_t at, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  return v;
}

}  // namespace

std::string encode_preamble(const Preamble& p) {
  std::string out(kMagic);
  put_u64(out, p.from);
  put_u64(out, p.to);
  put_u32(out, static_cast<uint32_t>(p.cluster_fingerprint.size()));
  out += p.cluster_fingerprint;
  return out;
}

Result<std::optional<Preamble>> decode_preamble(std::string_view in, size_t* consumed) {
  const size_t magic = std::min(in.size(), kMagic.size());
  if (in.substr(0, magic) != kMagic.substr(0, magic))
    return make_error("transport.stream", "not an etsecd Raft stream (wrong preamble)");
  const size_t fixed = kMagic.size() + 8 + 8 + 4;
  if (in.size() < fixed) return std::optional<Preamble>();
  const size_t fp_len = get_be(in, kMagic.size() + 16, 4);
  if (fp_len > kMaxFingerprint) return make_error("transport.stream", "oversized cluster fingerprint");
  if (in.size() < fixed + fp_len) return std::optional<Preamble>();
  Preamble p;
  p.from = get_be(in, kMagic.size(), 8);
  p.to = get_be(in, kMagic.size() + 8, 8);
  p.cluster_fingerprint = std::string(in.substr(fixed, fp_len));
  *consumed = fixed + fp_len;
  return std::optional<Preamble>(std::move(p));
}

void append_frames(std::string& out, FrameKind kind, const std::vector<std::string>& payloads) {
  for (const auto& p : payloads) {
    put_u32(out, static_cast<uint32_t>(p.size()));
    out.push_back(static_cast<char>(kind));
    out += p;
  }
}

Status FrameDecoder::feed(std::string_view bytes, std::vector<Frame>& out) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.append(bytes);
  while (buf_.size() - pos_ >= kFrameHeader) {
    const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    const size_t len = get_be(rest, 0, 4);
    const auto kind = static_cast<uint8_t>(rest[4]);
    if (len > max_payload_)
      return make_error("transport.stream", "frame of " + std::to_string(len) + " bytes exceeds the limit");
    if (kind != static_cast<uint8_t>(FrameKind::kRaft) && kind != static_cast<uint8_t>(FrameKind::kForward))
      return make_error("transport.stream", "unknown frame kind " + std::to_string(kind));
    if (rest.size() < kFrameHeader + len) break;
    out.push_back(Frame{static_cast<FrameKind>(kind), std::string(rest.substr(kFrameHeader, len))});
    pos_ += kFrameHeader + len;
  }
  // Keep the buffer from growing with everything ever read: drop consumed bytes once they dominate.
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return Status::Ok();
}

}  // namespace etsecd::transport::stream
