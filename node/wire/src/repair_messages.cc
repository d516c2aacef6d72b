#include "etsecd/wire/repair_messages.h"

#include "byte_io.h"

namespace etsecd::wire {
namespace {

using detail::check_version;
using detail::finish;
using detail::get_i64;
using detail::malformed;
using detail::Reader;
using detail::Writer;

constexpr uint8_t kVersion = 1;

void put_i64(Writer& w, int64_t v) { w.varint(static_cast<uint64_t>(v)); }
void put_key(Writer& w, const mvcc::RecordKey& k) {
  w.bytes(k.key);
  put_i64(w, k.rev.main);
  put_i64(w, k.rev.sub);
}
bool get_key(Reader& r, mvcc::RecordKey& k) {
  return r.bytes(k.key) && get_i64(r, k.rev.main) && get_i64(r, k.rev.sub);
}

void put_point(Writer& w, const mvcc::SnapshotPoint& p) {
  w.varint(p.applied_index);
  put_i64(w, p.current_revision);
  put_i64(w, p.compact_revision);
}
bool get_point(Reader& r, mvcc::SnapshotPoint& p) {
  return r.varint(p.applied_index) && get_i64(r, p.current_revision) && get_i64(r, p.compact_revision);
}

Writer start() {
  Writer w;
  w.u8(kVersion);
  return w;
}

}  // namespace

std::string encode_repair_shares_request(const RepairSharesRequest& m) {
  Writer w = start();
  w.varint(m.min_applied);
  w.varint(m.records.size());
  for (const auto& k : m.records) put_key(w, k);
  return w.take();
}

Result<RepairSharesRequest> decode_repair_shares_request(std::span<const uint8_t> bytes) {
  constexpr const char* what = "repair shares request";
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, what); !v) return v.error();
  RepairSharesRequest m;
  uint64_t n = 0;
  if (!r.varint(m.min_applied) || !r.count(n)) return malformed(what);
  m.records.resize(n);
  for (auto& k : m.records) {
    if (!get_key(r, k)) return malformed(what);
  }
  return finish(r, std::move(m), what);
}

std::string encode_repair_shares_response(const RepairSharesResponse& m) {
  Writer w = start();
  w.varint(m.shares.size());
  for (const auto& s : m.shares) {
    w.u8(s ? 1 : 0);
    if (s) w.bytes(*s);
  }
  return w.take();
}

Result<RepairSharesResponse> decode_repair_shares_response(std::span<const uint8_t> bytes) {
  constexpr const char* what = "repair shares response";
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, what); !v) return v.error();
  RepairSharesResponse m;
  uint64_t n = 0;
  if (!r.count(n)) return malformed(what);
  m.shares.resize(n);
  for (auto& s : m.shares) {
    uint8_t present = 0;
    if (!r.u8(present) || present > 1) return malformed(what);
    if (present == 1) {
      s.emplace();
      if (!r.bytes(*s)) return malformed(what);
    }
  }
  return finish(r, std::move(m), what);
}

std::string encode_repair_begin_request(const RepairBeginRequest& m) {
  Writer w = start();
  w.varint(m.source);
  put_point(w, m.point);
  return w.take();
}

Result<RepairBeginRequest> decode_repair_begin_request(std::span<const uint8_t> bytes) {
  constexpr const char* what = "repair begin request";
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, what); !v) return v.error();
  RepairBeginRequest m;
  if (!r.varint(m.source) || !get_point(r, m.point)) return malformed(what);
  return finish(r, std::move(m), what);
}

std::string encode_repair_begin_response(const RepairBeginResponse& m) {
  Writer w = start();
  w.u8(m.cursor ? 1 : 0);
  if (m.cursor) put_key(w, *m.cursor);
  return w.take();
}

Result<RepairBeginResponse> decode_repair_begin_response(std::span<const uint8_t> bytes) {
  constexpr const char* what = "repair begin response";
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, what); !v) return v.error();
  RepairBeginResponse m;
  uint8_t has = 0;
  if (!r.u8(has) || has > 1) return malformed(what);
  if (has == 1) {
    m.cursor.emplace();
    if (!get_key(r, *m.cursor)) return malformed(what);
  }
  return finish(r, std::move(m), what);
}

std::string encode_repair_chunk_request(const RepairChunkRequest& m) {
  Writer w = start();
  w.varint(m.source);
  w.varint(m.records.size());
  for (const auto& [k, rec] : m.records) {
    put_key(w, k);
    w.u8(rec.tombstone ? 1 : 0);
    put_i64(w, rec.create_revision);
    put_i64(w, rec.version);
    put_i64(w, rec.lease);
    w.bytes(rec.share);
  }
  return w.take();
}

Result<RepairChunkRequest> decode_repair_chunk_request(std::span<const uint8_t> bytes) {
  constexpr const char* what = "repair chunk request";
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, what); !v) return v.error();
  RepairChunkRequest m;
  uint64_t n = 0;
  if (!r.varint(m.source) || !r.count(n)) return malformed(what);
  m.records.resize(n);
  for (auto& [k, rec] : m.records) {
    uint8_t tomb = 0;
    if (!get_key(r, k) || !r.u8(tomb) || tomb > 1 || !get_i64(r, rec.create_revision) ||
        !get_i64(r, rec.version) || !get_i64(r, rec.lease) || !r.bytes(rec.share)) {
      return malformed(what);
    }
    rec.tombstone = tomb == 1;
  }
  return finish(r, std::move(m), what);
}

std::string encode_repair_finish_request(const RepairFinishRequest& m) {
  Writer w = start();
  w.varint(m.source);
  w.bytes(m.raft_snapshot);
  return w.take();
}

Result<RepairFinishRequest> decode_repair_finish_request(std::span<const uint8_t> bytes) {
  constexpr const char* what = "repair finish request";
  Reader r(bytes);
  if (auto v = check_version(r, kVersion, what); !v) return v.error();
  RepairFinishRequest m;
  if (!r.varint(m.source) || !r.bytes(m.raft_snapshot)) return malformed(what);
  return finish(r, std::move(m), what);
}

}  // namespace etsecd::wire
