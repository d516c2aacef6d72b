#include "forward_batch_codec.h"

#include <cstdint>

namespace etsecd::server {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_bytes(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Reads from the front of the buffer; every read checks what is left, so a short buffer is an error.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool u32(uint32_t& v) {
    if (b_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v |= static_cast<uint32_t>(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool u8(uint8_t& v) {
    if (b_.size() - pos_ < 1) return false;
    v = static_cast<unsigned char>(b_[pos_++]);
    return true;
  }
  bool bytes(std::string& s) {
    uint32_t n = 0;
    if (!u32(n) || b_.size() - pos_ < n) return false;
    s.assign(b_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

Error malformed(const char* what) {
  return make_error("server.malformed_batch", std::string("malformed forwarded batch: ") + what);
}

void put_request(std::string& out, const ForwardedRequest& r) {
  put_bytes(out, r.method);
  put_bytes(out, r.body);
  put_u32(out, static_cast<uint32_t>(std::max<int64_t>(0, r.time_left.count())));
}

void put_result(std::string& out, const Result<std::string>& r) {
  if (r) {
    out.push_back(1);
    put_bytes(out, *r);
  } else {
    out.push_back(0);
    put_bytes(out, r.error().code);
    put_bytes(out, r.error().message);
  }
}

}  // namespace

std::string encode_forward_batch(const std::vector<ForwardedRequest>& requests) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(requests.size()));
  for (const auto& r : requests) put_request(out, r);
  return out;
}

Result<std::vector<ForwardedRequest>> decode_forward_batch(std::string_view bytes) {
  Reader in(bytes);
  uint32_t n = 0;
  if (!in.u32(n)) return malformed("no count");
  std::vector<ForwardedRequest> out;
  out.reserve(std::min<size_t>(n, bytes.size() / 12));
  for (uint32_t i = 0; i < n; ++i) {
    ForwardedRequest r;
    uint32_t ms = 0;
    if (!in.bytes(r.method) || !in.bytes(r.body) || !in.u32(ms)) return malformed("truncated request");
    r.time_left = std::chrono::milliseconds(ms);
    out.push_back(std::move(r));
  }
  if (!in.done()) return malformed("trailing bytes after the requests");
  return out;
}

std::string encode_forward_results(const std::vector<Result<std::string>>& results) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(results.size()));
  for (const auto& r : results) put_result(out, r);
  return out;
}

Result<std::vector<Result<std::string>>> decode_forward_results(std::string_view bytes, size_t expected) {
  Reader in(bytes);
  uint32_t n = 0;
  if (!in.u32(n)) return malformed("no count");
  if (n != expected) return malformed("result count differs from request count");
  std::vector<Result<std::string>> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t ok = 0;
    std::string a;
    if (!in.u8(ok) || !in.bytes(a)) return malformed("truncated result");
    if (ok == 1) {
      out.emplace_back(std::move(a));
      continue;
    }
    std::string message;
    if (ok != 0 || !in.bytes(message)) return malformed("truncated or unknown error result");
    out.emplace_back(make_error(std::move(a), std::move(message)));
  }
  if (!in.done()) return malformed("trailing bytes after the results");
  return out;
}

namespace {
constexpr char kRequestFrame = 'Q';
constexpr char kResultFrame = 'R';
constexpr size_t kFrameHeader = 9;  // id (8 bytes, little-endian) and the kind byte

// The header, then the frame's body in the batch encoding of one request or one result (a count of 1),
// appended in place: the request body, up to the request size limit, is copied once.
std::string frame_header(uint64_t id, char kind) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((id >> (8 * i)) & 0xff));
  out.push_back(kind);
  put_u32(out, 1);
  return out;
}
}  // namespace

std::string encode_forward_request_frame(uint64_t id, const ForwardedRequest& request) {
  std::string out = frame_header(id, kRequestFrame);
  put_request(out, request);
  return out;
}

std::string encode_forward_result_frame(uint64_t id, const Result<std::string>& result) {
  std::string out = frame_header(id, kResultFrame);
  put_result(out, result);
  return out;
}

Result<ForwardFrame> decode_forward_frame(std::string_view bytes) {
  if (bytes.size() < kFrameHeader) return malformed("truncated frame header");
  ForwardFrame frame;
  for (int i = 0; i < 8; ++i)
    frame.id |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const std::string_view rest = bytes.substr(kFrameHeader);
  if (bytes[8] == kRequestFrame) {
    auto requests = decode_forward_batch(rest);
    if (!requests) return requests.error();
    if (requests->size() != 1) return malformed("a request frame carries one request");
    frame.request = std::move(requests->front());
    return frame;
  }
  if (bytes[8] == kResultFrame) {
    auto results = decode_forward_results(rest, 1);
    if (!results) return results.error();
    frame.is_result = true;
    frame.result = std::move(results->front());
    return frame;
  }
  return malformed("unknown frame kind");
}

}  // namespace etsecd::server
