#include "etsecd/wire/raft_codec.h"

#include <doctest/doctest.h>

#include <random>

using namespace etsecd;
using namespace etsecd::wire;

namespace {

raft::Bytes random_bytes(std::mt19937_64& rng, size_t max_len) {
  raft::Bytes b(rng() % (max_len + 1));
  for (auto& c : b) c = static_cast<uint8_t>(rng());
  return b;
}

raft::Entry random_entry(std::mt19937_64& rng) {
  raft::Entry e;
  e.index = rng();
  e.term = rng() % 1000;
  e.type = static_cast<raft::EntryType>(rng() % 3);
  e.metadata = random_bytes(rng, 64);
  e.shares.resize(rng() % 4);
  for (auto& s : e.shares) s = random_bytes(rng, 100);
  return e;
}

raft::Message random_message(std::mt19937_64& rng) {
  raft::Message m;
  m.type = static_cast<raft::MessageType>(rng() % (static_cast<int>(raft::MessageType::kTimeoutNow) + 1));
  m.from = rng();
  m.to = rng() % 10;
  m.term = rng();
  m.log_term = rng() % 7;
  m.index = rng();
  m.commit = rng() % 100000;
  m.reject = rng() % 2;
  m.reject_hint = rng() % 50;
  m.fetch_last = rng() % 50;
  m.entries.resize(rng() % 4);
  for (auto& e : m.entries) e = random_entry(rng);
  m.share_items.resize(rng() % 3);
  for (auto& item : m.share_items) {
    item.index = rng();
    item.term = rng() % 9;
    item.shares.resize(rng() % 3);
    for (auto& s : item.shares) s = random_bytes(rng, 40);
    item.corrupt_values.resize(rng() % 2);
    for (auto& c : item.corrupt_values) c = static_cast<uint32_t>(rng());
  }
  m.context = random_bytes(rng, 16);
  return m;
}

}  // namespace

TEST_CASE("messages, entries, hard state and membership round-trip") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 500; ++i) {
    auto m = random_message(rng);
    auto enc = encode_message(m);
    auto dec = decode_message(as_bytes(enc));
    REQUIRE(dec.ok());
    CHECK(*dec == m);

    auto e = random_entry(rng);
    auto de = decode_entry(as_bytes(encode_entry(e)));
    REQUIRE(de.ok());
    CHECK(*de == e);
  }
  raft::HardState hs{7, 3, 99};
  CHECK(*decode_hard_state(as_bytes(encode_hard_state(hs))) == hs);
  raft::Membership ms{{{1, 1, true, {}}, {2, 2, true, {}}, {9, 6, false, {'u', 'r', 'l'}}}, 3, 4, 6};
  CHECK(*decode_membership(as_bytes(encode_membership(ms))) == ms);
}

TEST_CASE("every truncation and any trailing byte is rejected") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    auto enc = encode_message(random_message(rng));
    for (size_t cut = 0; cut < enc.size(); ++cut) {
      auto dec = decode_message(as_bytes(enc.substr(0, cut)));
      REQUIRE_FALSE(dec.ok());
    }
    auto dec = decode_message(as_bytes(enc + "x"));
    REQUIRE_FALSE(dec.ok());
    CHECK(dec.error().code == "wire.trailing_bytes");
  }
}

TEST_CASE("wrong version, unknown type and hostile counts give clear errors") {
  auto enc = encode_message(raft::Message{});
  enc[0] = 9;
  auto v = decode_message(as_bytes(enc));
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code == "wire.bad_version");

  enc = encode_message(raft::Message{});
  enc[1] = static_cast<char>(200);
  auto t = decode_message(as_bytes(enc));
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == "wire.bad_type");

  // An entry count of 2^60 must not allocate: it is larger than the input.
  std::string hostile = {static_cast<char>(kRaftCodecVersion), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) hostile.push_back(static_cast<char>(0xff));
  hostile.push_back(0x0f);
  auto h = decode_message(as_bytes(hostile));
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().code == "wire.truncated");
}

#include "etsecd/wire/share_fetch.h"

TEST_CASE("share fetch requests and responses round-trip and reject damage") {
  ShareFetchRequest req{7, "ctx-1", 42, {{"a", 3}, {"key/with/slash", -1}, {"", 0}}};
  auto enc = encode_share_fetch_request(req);
  auto dec = decode_share_fetch_request(as_bytes(enc));
  REQUIRE(dec.ok());
  CHECK(*dec == req);
  for (size_t cut = 0; cut < enc.size(); ++cut)
    CHECK_FALSE(decode_share_fetch_request(as_bytes(enc.substr(0, cut))).ok());

  ShareFetchResponse resp{7, 3, 42, {{ShareStatus::kOk, "abc"}, {ShareStatus::kCorrupt, ""}}};
  auto renc = encode_share_fetch_response(resp);
  auto rdec = decode_share_fetch_response(as_bytes(renc));
  REQUIRE(rdec.ok());
  CHECK(*rdec == resp);
  renc[renc.size() - 2] = 9;  // status byte of the last item (its share is empty): unknown
  CHECK_FALSE(decode_share_fetch_response(as_bytes(renc)).ok());
  CHECK(decode_share_fetch_response(as_bytes(encode_share_fetch_response(resp) + "z")).error().code ==
        "wire.trailing_bytes");
}

#include "etsecd/wire/forwarded_read.h"

TEST_CASE("forwarded reads round-trip and reject damage") {
  ForwardedRead read{"range-request-bytes", {{{"a", 3}, "share-a"}, {{"", -1}, ""}}};
  auto enc = encode_forwarded_read(read);
  auto dec = decode_forwarded_read(as_bytes(enc));
  REQUIRE(dec.ok());
  CHECK(*dec == read);
  for (size_t cut = 0; cut < enc.size(); ++cut)
    CHECK_FALSE(decode_forwarded_read(as_bytes(enc.substr(0, cut))).ok());
  CHECK(decode_forwarded_read(as_bytes(enc + "z")).error().code == "wire.trailing_bytes");
  enc[0] = 9;
  CHECK(decode_forwarded_read(as_bytes(enc)).error().code == "wire.bad_version");
}
