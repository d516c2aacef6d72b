#pragma once
// etcd's (key, range_end) conventions as one value: a single key, [key, end) or every key >= key.

#include <string>
#include <string_view>

namespace etsecd::mvcc {

struct KeySpan {
  enum class Kind { kSingle, kBounded, kToEnd };
  Kind kind = Kind::kSingle;
  std::string_view begin;
  std::string_view end;  // only for kBounded

  static KeySpan of(std::string_view key, std::string_view range_end) {
    if (range_end.empty()) return {Kind::kSingle, key, {}};
    if (range_end.size() == 1 && range_end[0] == '\0') return {Kind::kToEnd, key, {}};
    return {Kind::kBounded, key, range_end};
  }
  bool contains(std::string_view k) const {
    switch (kind) {
      case Kind::kSingle:
        return k == begin;
      case Kind::kToEnd:
        return k >= begin;
      case Kind::kBounded:
        return k >= begin && k < end;
    }
    return false;
  }
  // Whether two spans share a key (for etcd's duplicate-key rule).
  bool intersects(const KeySpan& o) const {
    if (kind == Kind::kSingle) return o.contains(begin);
    if (o.kind == Kind::kSingle) return contains(o.begin);
    // Both are intervals [b, e) with e possibly infinite.
    bool this_before_other = kind == Kind::kBounded && end <= o.begin;
    bool other_before_this = o.kind == Kind::kBounded && o.end <= begin;
    return !this_before_other && !other_before_this;
  }
};

// A range_end that is neither empty nor "\0" must be above the key.
inline bool valid_range(std::string_view key, std::string_view range_end) {
  KeySpan span = KeySpan::of(key, range_end);
  return span.kind != KeySpan::Kind::kBounded || span.end > span.begin;
}

}  // namespace etsecd::mvcc
