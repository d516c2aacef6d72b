#pragma once
// Varint and length-prefixed byte reading/writing shared by the wire codecs. The Reader never reads
// past its input and refuses counts larger than the bytes left, so hostile input cannot make it
// allocate more than the input's size.

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::wire::detail {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void bytes(std::span<const uint8_t> b) {
    varint(b.size());
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void bytes(const std::string& s) {
    varint(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  bool u8(uint8_t& v) {
    if (pos_ >= in_.size()) return fail();
    v = in_[pos_++];
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail();
      uint8_t b = in_[pos_++];
      if (shift == 63 && b > 1) return fail();  // would overflow 64 bits
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return fail();
  }
  template <class Container>  // std::vector<uint8_t> or std::string
  bool bytes(Container& b) {
    uint64_t n = 0;
    if (!varint(n) || n > in_.size() - pos_) return fail();
    b.assign(in_.begin() + static_cast<ptrdiff_t>(pos_), in_.begin() + static_cast<ptrdiff_t>(pos_ + n));
    pos_ += n;
    return true;
  }
  // A count of items that each take at least one byte: larger than what is left means corrupt input,
  // and checking it first keeps a hostile count from allocating gigabytes.
  bool count(uint64_t& n) { return varint(n) && (n <= in_.size() - pos_ || fail()); }
  bool at_end() const { return pos_ == in_.size(); }
  bool failed() const { return failed_; }

 private:
  bool fail() {
    failed_ = true;
    return false;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Helpers the message codecs share: a version byte first, then fields; anything short, long or of
// another version is refused with a wire.* error naming the message.
inline Error malformed(const char* what) {
  return make_error("wire.truncated", std::string("malformed ") + what);
}

inline bool get_i64(Reader& r, int64_t& v) {
  uint64_t u = 0;
  if (!r.varint(u)) return false;
  v = static_cast<int64_t>(u);
  return true;
}

inline Result<bool> check_version(Reader& r, uint8_t version, const char* what) {
  uint8_t v = 0;
  if (!r.u8(v)) return malformed(what);
  if (v != version) return make_error("wire.bad_version", std::string("unsupported ") + what + " version");
  return true;
}

template <class T>
Result<T> finish(Reader& r, T value, const char* what) {
  if (r.failed()) return malformed(what);
  if (!r.at_end()) return make_error("wire.trailing_bytes", std::string("unexpected bytes after ") + what);
  return value;
}

}  // namespace etsecd::wire::detail
