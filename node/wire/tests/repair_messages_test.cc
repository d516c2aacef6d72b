#include "etsecd/wire/repair_messages.h"

#include <doctest/doctest.h>

#include "etsecd/wire/raft_codec.h"

using namespace etsecd;
using namespace etsecd::wire;

namespace {

mvcc::RecordKey key(const std::string& k, int64_t main, int64_t sub = 0) {
  return mvcc::RecordKey{k, {main, sub}};
}

// Every strict prefix of a valid encoding is refused, and so is a byte appended to it.
template <class Decode>
void refuses_damage(const std::string& good, Decode decode) {
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = decode(as_bytes(good.substr(0, n)));
    CHECK_FALSE(r.ok());
  }
  auto longer = decode(as_bytes(good + "x"));
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.error().code == "wire.trailing_bytes");
  std::string bad_version = good;
  bad_version[0] = 9;
  CHECK(decode(as_bytes(bad_version)).error().code == "wire.bad_version");
}

}  // namespace

TEST_CASE("repair messages round-trip and refuse damage") {
  RepairSharesRequest sreq{42, {key("a", 2), key(std::string("b\0c", 3), 9, 1)}};
  auto s = encode_repair_shares_request(sreq);
  CHECK(decode_repair_shares_request(as_bytes(s)).value() == sreq);
  refuses_damage(s, decode_repair_shares_request);

  RepairSharesResponse sresp{{std::string("share-1"), std::nullopt, std::string()}};
  s = encode_repair_shares_response(sresp);
  CHECK(decode_repair_shares_response(as_bytes(s)).value() == sresp);
  refuses_damage(s, decode_repair_shares_response);

  RepairBeginRequest breq{7, mvcc::SnapshotPoint{100, 55, -1}};
  s = encode_repair_begin_request(breq);
  CHECK(decode_repair_begin_request(as_bytes(s)).value() == breq);
  refuses_damage(s, decode_repair_begin_request);

  for (const RepairBeginResponse& bresp : {RepairBeginResponse{}, RepairBeginResponse{key("k", 3, 2)}}) {
    s = encode_repair_begin_response(bresp);
    CHECK(decode_repair_begin_response(as_bytes(s)).value() == bresp);
    refuses_damage(s, decode_repair_begin_response);
  }

  RepairChunkRequest creq{7,
                          {{key("a", 2), mvcc::Record{false, 2, 1, 0, "sh"}},
                           {key("a", 5), mvcc::Record{true, 0, 0, 0, ""}},
                           {key("z", 6), mvcc::Record{false, 6, 3, 99, std::string(300, 's')}}}};
  s = encode_repair_chunk_request(creq);
  CHECK(decode_repair_chunk_request(as_bytes(s)).value() == creq);
  refuses_damage(s, decode_repair_chunk_request);

  RepairFinishRequest freq{7, "raft-meta"};
  s = encode_repair_finish_request(freq);
  CHECK(decode_repair_finish_request(as_bytes(s)).value() == freq);
  refuses_damage(s, decode_repair_finish_request);
}

TEST_CASE("a hostile record count cannot make the decoder allocate") {
  // version 1, min_applied 0, count 2^62, then nothing.
  const std::string hostile =
      std::string("\x01\x00", 2) + std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x40", 9);
  auto r = decode_repair_shares_request(as_bytes(hostile));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "wire.truncated");
}
