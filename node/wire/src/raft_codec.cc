#include "etsecd/wire/raft_codec.h"

#include <limits>

#include "byte_io.h"

namespace etsecd::wire {
namespace {

using detail::finish;
using detail::malformed;
using detail::Reader;
using detail::Writer;

void put_entry(Writer& w, const raft::Entry& e) {
  w.varint(e.index);
  w.varint(e.term);
  w.u8(static_cast<uint8_t>(e.type));
  w.bytes(e.metadata);
  w.varint(e.shares.size());
  for (const auto& s : e.shares) w.bytes(s);
}

bool get_entry(Reader& r, raft::Entry& e) {
  uint8_t type = 0;
  uint64_t n = 0;
  if (!r.varint(e.index) || !r.varint(e.term) || !r.u8(type)) return false;
  if (type > static_cast<uint8_t>(raft::EntryType::kConfChange)) return false;
  e.type = static_cast<raft::EntryType>(type);
  if (!r.bytes(e.metadata) || !r.count(n)) return false;
  e.shares.resize(n);
  for (auto& s : e.shares) {
    if (!r.bytes(s)) return false;
  }
  return true;
}

void put_membership(Writer& w, const raft::Membership& m) {
  w.varint(m.members.size());
  for (const auto& member : m.members) {
    w.varint(member.id);
    w.u8(member.x);
    w.u8(member.voter ? 1 : 0);
    w.bytes(member.context);  // the host's name and peer URLs of an added member (opaque here)
  }
  w.varint(m.threshold);
  w.varint(m.commit_quorum_override);
  w.u8(m.max_x_used);
}

bool get_membership(Reader& r, raft::Membership& m) {
  uint64_t n = 0, threshold = 0, quorum = 0;
  if (!r.count(n)) return false;
  m.members.resize(n);
  for (auto& member : m.members) {
    uint8_t voter = 0;
    if (!r.varint(member.id) || !r.u8(member.x) || !r.u8(voter) || voter > 1 || !r.bytes(member.context))
      return false;
    member.voter = voter == 1;
  }
  if (!r.varint(threshold) || !r.varint(quorum) || !r.u8(m.max_x_used)) return false;
  if (threshold > 255 || quorum > 255) return false;
  m.threshold = static_cast<unsigned>(threshold);
  m.commit_quorum_override = static_cast<unsigned>(quorum);
  return true;
}

bool version_ok(Reader& r) {
  uint8_t v = 0;
  return r.u8(v) && v == kRaftCodecVersion;
}

Error bad_version(const char* what) {
  return make_error("wire.bad_version", std::string("unsupported ") + what + " encoding version");
}

}  // namespace

std::string encode_message(const raft::Message& m) {
  Writer w;
  w.u8(kRaftCodecVersion);
  w.u8(static_cast<uint8_t>(m.type));
  w.varint(m.from);
  w.varint(m.to);
  w.varint(m.term);
  w.varint(m.log_term);
  w.varint(m.index);
  w.varint(m.commit);
  w.u8(m.reject ? 1 : 0);
  w.varint(m.reject_hint);
  w.varint(m.fetch_last);
  w.varint(m.entries.size());
  for (const auto& e : m.entries) put_entry(w, e);
  w.varint(m.share_items.size());
  for (const auto& item : m.share_items) {
    w.varint(item.index);
    w.varint(item.term);
    w.varint(item.shares.size());
    for (const auto& s : item.shares) w.bytes(s);
    w.varint(item.corrupt_values.size());
    for (uint32_t c : item.corrupt_values) w.varint(c);
  }
  w.bytes(m.context);
  return w.take();
}

Result<raft::Message> decode_message(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (!version_ok(r)) return r.failed() ? malformed("raft message") : bad_version("raft message");
  raft::Message m;
  uint8_t type = 0, reject = 0;
  uint64_t n = 0;
  if (!r.u8(type)) return malformed("raft message");
  if (type > static_cast<uint8_t>(raft::MessageType::kTimeoutNow)) {
    return make_error("wire.bad_type", "unknown raft message type " + std::to_string(type));
  }
  m.type = static_cast<raft::MessageType>(type);
  if (!r.varint(m.from) || !r.varint(m.to) || !r.varint(m.term) || !r.varint(m.log_term) ||
      !r.varint(m.index) || !r.varint(m.commit) || !r.u8(reject) || reject > 1 || !r.varint(m.reject_hint) ||
      !r.varint(m.fetch_last) || !r.count(n)) {
    return malformed("raft message");
  }
  m.reject = reject == 1;
  m.entries.resize(n);
  for (auto& e : m.entries) {
    if (!get_entry(r, e)) return malformed("raft message entry");
  }
  if (!r.count(n)) return malformed("raft message");
  m.share_items.resize(n);
  for (auto& item : m.share_items) {
    uint64_t k = 0;
    if (!r.varint(item.index) || !r.varint(item.term) || !r.count(k)) return malformed("share item");
    item.shares.resize(k);
    for (auto& s : item.shares) {
      if (!r.bytes(s)) return malformed("share item");
    }
    if (!r.count(k)) return malformed("share item");
    item.corrupt_values.resize(k);
    for (auto& c : item.corrupt_values) {
      uint64_t v = 0;
      if (!r.varint(v) || v > std::numeric_limits<uint32_t>::max()) return malformed("share item");
      c = static_cast<uint32_t>(v);
    }
  }
  if (!r.bytes(m.context)) return malformed("raft message");
  return finish(r, std::move(m), "raft message");
}

std::string encode_entry(const raft::Entry& entry) {
  Writer w;
  w.u8(kRaftCodecVersion);
  put_entry(w, entry);
  return w.take();
}

Result<raft::Entry> decode_entry(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (!version_ok(r)) return r.failed() ? malformed("log entry") : bad_version("log entry");
  raft::Entry e;
  if (!get_entry(r, e)) return malformed("log entry");
  return finish(r, std::move(e), "log entry");
}

std::string encode_hard_state(const raft::HardState& s) {
  Writer w;
  w.u8(kRaftCodecVersion);
  w.varint(s.term);
  w.varint(s.vote);
  w.varint(s.commit);
  return w.take();
}

Result<raft::HardState> decode_hard_state(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (!version_ok(r)) return r.failed() ? malformed("hard state") : bad_version("hard state");
  raft::HardState s;
  if (!r.varint(s.term) || !r.varint(s.vote) || !r.varint(s.commit)) return malformed("hard state");
  return finish(r, s, "hard state");
}

std::string encode_membership(const raft::Membership& membership) {
  Writer w;
  w.u8(kRaftCodecVersion);
  put_membership(w, membership);
  return w.take();
}

Result<raft::Membership> decode_membership(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (!version_ok(r)) return r.failed() ? malformed("membership") : bad_version("membership");
  raft::Membership m;
  if (!get_membership(r, m)) return malformed("membership");
  return finish(r, std::move(m), "membership");
}

}  // namespace etsecd::wire
