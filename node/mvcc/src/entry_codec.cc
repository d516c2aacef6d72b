// Layout (after the version byte):
//   Operation    := u8 tag (1 put, 2 delete_range, 3 txn, 4 compact) body
//   Put          := str key, u8 flags (1 has_slot, 2 prev_kv, 4 ignore_value, 8 ignore_lease),
//                   [uvarint slot if has_slot], svarint lease
//   DeleteRange  := str key, str range_end, u8 flags (1 prev_kv)
//   Range        := str key, str range_end, svarint limit, svarint revision, u8 sort_order,
//                   u8 sort_target, u8 flags (1 keys_only, 2 count_only), svarint min_mod, max_mod,
//                   min_create, max_create
//   Txn          := uvarint n, Compare*n, uvarint n, RequestOp*n (success), uvarint n, RequestOp*n (failure)
//   Compare      := u8 result, u8 target, str key, str range_end, svarint number,
//                   [if target = value: u8 outcome (0/1), uvarint n, (str key, svarint mod_revision)*n]
//   RequestOp    := u8 tag (1 range, 2 put, 3 delete_range, 4 txn) body
//   Compact      := svarint revision, u8 physical (0/1)

#include "etsecd/mvcc/entry_codec.h"

#include "etsecd/mvcc/errors.h"

namespace etsecd::mvcc {
namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void uvarint(uint64_t v) {
    while (v >= 0x80) {
      u8(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    u8(static_cast<uint8_t>(v));
  }
  void svarint(int64_t v) { uvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void str(std::string_view s) {
    uvarint(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void encode_compare(Writer& w, const Compare& c) {
  w.u8(static_cast<uint8_t>(c.result));
  w.u8(static_cast<uint8_t>(c.target));
  w.str(c.key);
  w.str(c.range_end);
  w.svarint(c.number);
  if (c.target == CompareTarget::kValue) {
    w.u8(c.value_outcome ? 1 : 0);
    w.uvarint(c.observed.size());
    for (const ObservedKey& o : c.observed) {
      w.str(o.key);
      w.svarint(o.mod_revision);
    }
  }
}

void encode_put(Writer& w, const PutOp& p) {
  w.str(p.key);
  w.u8(static_cast<uint8_t>((p.value_slot ? 1 : 0) | (p.prev_kv ? 2 : 0) | (p.ignore_value ? 4 : 0) |
                            (p.ignore_lease ? 8 : 0)));
  if (p.value_slot) w.uvarint(*p.value_slot);
  w.svarint(p.lease);
}

void encode_delete(Writer& w, const DeleteRangeOp& d) {
  w.str(d.key);
  w.str(d.range_end);
  w.u8(d.prev_kv ? 1 : 0);
}

void encode_range(Writer& w, const RangeOp& r) {
  w.str(r.key);
  w.str(r.range_end);
  w.svarint(r.limit);
  w.svarint(r.revision);
  w.u8(static_cast<uint8_t>(r.sort_order));
  w.u8(static_cast<uint8_t>(r.sort_target));
  w.u8(static_cast<uint8_t>((r.keys_only ? 1 : 0) | (r.count_only ? 2 : 0)));
  w.svarint(r.min_mod_revision);
  w.svarint(r.max_mod_revision);
  w.svarint(r.min_create_revision);
  w.svarint(r.max_create_revision);
}

void encode_txn(Writer& w, const TxnOp& t);

void encode_request_ops(Writer& w, const std::vector<RequestOp>& ops) {
  w.uvarint(ops.size());
  for (const RequestOp& op : ops) {
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, RangeOp>) w.u8(1), encode_range(w, o);
          if constexpr (std::is_same_v<T, PutOp>) w.u8(2), encode_put(w, o);
          if constexpr (std::is_same_v<T, DeleteRangeOp>) w.u8(3), encode_delete(w, o);
          if constexpr (std::is_same_v<T, TxnOp>) w.u8(4), encode_txn(w, o);
        },
        op.op);
  }
}

void encode_txn(Writer& w, const TxnOp& t) {
  w.uvarint(t.compares.size());
  for (const Compare& c : t.compares) encode_compare(w, c);
  encode_request_ops(w, t.success);
  encode_request_ops(w, t.failure);
}

// Every read checks the remaining length; every count is bounded by the bytes left (each element takes at
// least one byte), so a hostile length cannot make us allocate more than the input size.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool done() const { return pos_ == in_.size(); }
  const std::string& failure() const { return failure_; }
  bool failed() const { return !failure_.empty(); }
  void fail(const char* why) {
    if (failure_.empty()) failure_ = why;
  }

  uint8_t u8() {
    if (pos_ >= in_.size()) {
      fail("truncated");
      return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t uvarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) {
        fail("truncated varint");
        return 0;
      }
      auto b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        fail("varint overflow");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) fail("non-minimal varint");
        return v;
      }
    }
    fail("varint too long");
    return 0;
  }
  int64_t svarint() {
    uint64_t u = uvarint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::string str() {
    uint64_t n = uvarint();
    if (failed()) return {};
    if (n > in_.size() - pos_) {
      fail("string longer than the entry");
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool flag(uint8_t max) {
    uint8_t b = u8();
    if (b > max) fail("bad boolean");
    return b == 1;
  }
  size_t count() {
    uint64_t n = uvarint();
    if (n > in_.size() - pos_) {
      fail("count larger than the entry");
      return 0;
    }
    return static_cast<size_t>(n);
  }
  template <class E>
  E enumeration(uint8_t max) {
    uint8_t b = u8();
    if (b > max) fail("unknown enum value");
    return static_cast<E>(b);
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string failure_;
};

PutOp decode_put(Reader& r) {
  PutOp p;
  p.key = r.str();
  uint8_t flags = r.u8();
  if (flags > 15) r.fail("unknown put flags");
  if (flags & 1) {
    uint64_t slot = r.uvarint();
    if (slot > UINT32_MAX) r.fail("value slot out of range");
    p.value_slot = static_cast<uint32_t>(slot);
  }
  p.prev_kv = flags & 2;
  p.ignore_value = flags & 4;
  p.ignore_lease = flags & 8;
  p.lease = r.svarint();
  return p;
}

DeleteRangeOp decode_delete(Reader& r) {
  DeleteRangeOp d;
  d.key = r.str();
  d.range_end = r.str();
  d.prev_kv = r.flag(1);
  return d;
}

RangeOp decode_range(Reader& r) {
  RangeOp g;
  g.key = r.str();
  g.range_end = r.str();
  g.limit = r.svarint();
  g.revision = r.svarint();
  g.sort_order = r.enumeration<SortOrder>(2);
  g.sort_target = r.enumeration<SortTarget>(4);
  uint8_t flags = r.u8();
  if (flags > 3) r.fail("unknown range flags");
  g.keys_only = flags & 1;
  g.count_only = flags & 2;
  g.min_mod_revision = r.svarint();
  g.max_mod_revision = r.svarint();
  g.min_create_revision = r.svarint();
  g.max_create_revision = r.svarint();
  return g;
}

Compare decode_compare(Reader& r) {
  Compare c;
  c.result = r.enumeration<CompareResult>(3);
  c.target = r.enumeration<CompareTarget>(4);
  c.key = r.str();
  c.range_end = r.str();
  c.number = r.svarint();
  if (c.target == CompareTarget::kValue && !r.failed()) {
    c.value_outcome = r.flag(1);
    size_t n = r.count();
    for (size_t i = 0; i < n && !r.failed(); ++i) {
      ObservedKey o;
      o.key = r.str();
      o.mod_revision = r.svarint();
      c.observed.push_back(std::move(o));
    }
  }
  return c;
}

TxnOp decode_txn(Reader& r, size_t depth);

std::vector<RequestOp> decode_request_ops(Reader& r, size_t depth) {
  std::vector<RequestOp> ops;
  size_t n = r.count();
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    switch (r.u8()) {
      case 1:
        ops.push_back(RequestOp{decode_range(r)});
        break;
      case 2:
        ops.push_back(RequestOp{decode_put(r)});
        break;
      case 3:
        ops.push_back(RequestOp{decode_delete(r)});
        break;
      case 4:
        ops.push_back(RequestOp{decode_txn(r, depth + 1)});
        break;
      default:
        r.fail("unknown request op");
    }
  }
  return ops;
}

TxnOp decode_txn(Reader& r, size_t depth) {
  TxnOp t;
  if (depth > kMaxEncodedTxnDepth) {
    r.fail("txn nested too deeply");
    return t;
  }
  size_t n = r.count();
  for (size_t i = 0; i < n && !r.failed(); ++i) t.compares.push_back(decode_compare(r));
  if (!r.failed()) t.success = decode_request_ops(r, depth);
  if (!r.failed()) t.failure = decode_request_ops(r, depth);
  return t;
}

}  // namespace

std::string encode_operation(const Operation& op) {
  Writer w;
  w.u8(kEntryFormatVersion);
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, PutOp>) w.u8(1), encode_put(w, o);
        if constexpr (std::is_same_v<T, DeleteRangeOp>) w.u8(2), encode_delete(w, o);
        if constexpr (std::is_same_v<T, TxnOp>) w.u8(3), encode_txn(w, o);
        if constexpr (std::is_same_v<T, CompactOp>) {
          w.u8(4);
          w.svarint(o.revision);
          w.u8(o.physical ? 1 : 0);
        }
      },
      op.op);
  return w.take();
}

Result<Operation> decode_operation(std::string_view bytes) {
  Reader r(bytes);
  if (r.u8() != kEntryFormatVersion) return make_error(kBadEntry, "unknown format version");
  Operation op;
  switch (r.u8()) {
    case 1:
      op.op = decode_put(r);
      break;
    case 2:
      op.op = decode_delete(r);
      break;
    case 3:
      op.op = decode_txn(r, 1);
      break;
    case 4: {
      CompactOp c;
      c.revision = r.svarint();
      c.physical = r.flag(1);
      op.op = c;
      break;
    }
    default:
      r.fail("unknown operation");
  }
  if (!r.failed() && !r.done()) r.fail("trailing bytes");
  if (r.failed()) return make_error(kBadEntry, r.failure());
  return op;
}

}  // namespace etsecd::mvcc
