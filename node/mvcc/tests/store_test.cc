#include <doctest/doctest.h>

#include "etsecd/mvcc/range_sort.h"
#include "harness.h"

using namespace etsecd::mvcc;
using namespace etsecd::mvcc::testing;

TEST_CASE("a fresh store is at revision 1 and the first write gets revision 2, like etcd") {
  Harness h;
  CHECK(h.store->current_revision() == 1);
  auto r = h.put("foo", "share-1");
  REQUIRE(r.ok());
  CHECK(r->revision == 2);
  auto got = h.get("foo");
  REQUIRE(got.kvs.size() == 1);
  CHECK(got.kvs[0] == KeyValue{"foo", 2, 2, 1, 0, "share-1"});
  CHECK(got.revision == 2);
  CHECK(got.count == 1);
}

TEST_CASE("versions grow per put, a delete writes a tombstone and a re-put starts a new generation") {
  Harness h;
  REQUIRE(h.put("k", "s1").ok());  // rev 2
  REQUIRE(h.put("k", "s2").ok());  // rev 3
  auto kv = h.get("k").kvs.at(0);
  CHECK(kv.create_revision == 2);
  CHECK(kv.mod_revision == 3);
  CHECK(kv.version == 2);
  CHECK(kv.share == "s2");

  auto d = h.del("k", "", true);  // rev 4
  REQUIRE(d.ok());
  CHECK(d->revision == 4);
  const auto& dr = std::get<DeleteRangeResult>(d->result);
  CHECK(dr.deleted == 1);
  REQUIRE(dr.prev_kvs.size() == 1);
  CHECK(dr.prev_kvs[0] == KeyValue{"k", 2, 3, 2, 0, "s2"});
  CHECK(h.get("k").kvs.empty());
  CHECK(h.get("k").count == 0);

  REQUIRE(h.put("k", "s3").ok());  // rev 5
  kv = h.get("k").kvs.at(0);
  CHECK(kv.create_revision == 5);
  CHECK(kv.version == 1);
}

TEST_CASE("deleting nothing does not create a revision") {
  Harness h;
  REQUIRE(h.put("a", "x").ok());
  auto d = h.del("zzz");
  REQUIRE(d.ok());
  CHECK(d->revision == 2);
  CHECK(std::get<DeleteRangeResult>(d->result).deleted == 0);
  CHECK(h.store->current_revision() == 2);
  CHECK(h.store->applied_index() == 2);
}

TEST_CASE("put returns prev_kv only when asked and only if the key existed") {
  Harness h;
  auto first = h.put("a", "s1", true);
  REQUIRE(first.ok());
  CHECK_FALSE(std::get<PutResult>(first->result).prev_kv.has_value());
  auto second = h.put("a", "s2", true);
  REQUIRE(second.ok());
  CHECK(std::get<PutResult>(second->result).prev_kv == KeyValue{"a", 2, 2, 1, 0, "s1"});
  auto third = h.put("a", "s3", false);
  CHECK_FALSE(std::get<PutResult>(third->result).prev_kv.has_value());
}

TEST_CASE("range conventions: single key, prefix, from-key, all keys, limit, count") {
  Harness h;
  for (const char* k : {"a", "ab", "abc", "b", "ba", "c"}) REQUIRE(h.put(k, std::string("s-") + k).ok());
  CHECK(keys_of(h.get("ab")) == std::vector<std::string>{"ab"});
  CHECK(keys_of(h.get("ab", "ac")) == std::vector<std::string>{"ab", "abc"});  // prefix "ab"
  CHECK(keys_of(h.get("b", std::string(1, '\0'))) == std::vector<std::string>{"b", "ba", "c"});
  CHECK(keys_of(h.get(std::string(1, '\0'), std::string(1, '\0'))).size() == 6);  // every key
  CHECK(keys_of(h.get("a", "b")) == std::vector<std::string>{"a", "ab", "abc"});

  RangeOp op;
  op.key = "a";
  op.range_end = std::string(1, '\0');
  op.limit = 2;
  auto limited = h.store->range(op);
  REQUIRE(limited.ok());
  CHECK(keys_of(*limited) == std::vector<std::string>{"a", "ab"});
  CHECK(limited->more);
  CHECK(limited->count == 6);

  op.limit = 6;
  CHECK_FALSE(h.store->range(op)->more);

  op.limit = 0;
  op.count_only = true;
  auto counted = h.store->range(op);
  CHECK(counted->kvs.empty());
  CHECK(counted->count == 6);

  op.count_only = false;
  op.keys_only = true;
  auto keys_only = h.store->range(op);
  REQUIRE(keys_only->kvs.size() == 6);
  for (const auto& kv : keys_only->kvs) CHECK(kv.share.empty());
}

TEST_CASE("sorting by key, version, create and mod revision, with limit after sort") {
  Harness h;
  REQUIRE(h.put("b", "1").ok());  // b: create 2
  REQUIRE(h.put("a", "1").ok());  // a: create 3
  REQUIRE(h.put("c", "1").ok());  // c: create 4
  REQUIRE(h.put("a", "2").ok());  // a: version 2, mod 5
  RangeOp op;
  op.key = "a";
  op.range_end = "d";

  op.sort_order = SortOrder::kDescend;
  CHECK(keys_of(*h.store->range(op)) == std::vector<std::string>{"c", "b", "a"});

  op.sort_target = SortTarget::kCreate;
  op.sort_order = SortOrder::kNone;  // non-key target without order: ascending (etcd)
  CHECK(keys_of(*h.store->range(op)) == std::vector<std::string>{"b", "a", "c"});

  op.sort_target = SortTarget::kMod;
  op.sort_order = SortOrder::kDescend;
  op.limit = 2;
  auto r = h.store->range(op);
  CHECK(keys_of(*r) == std::vector<std::string>{"a", "c"});
  CHECK(r->more);
  CHECK(r->count == 3);

  op.sort_target = SortTarget::kVersion;
  op.sort_order = SortOrder::kDescend;
  op.limit = 1;
  CHECK(keys_of(*h.store->range(op)) == std::vector<std::string>{"a"});
}

TEST_CASE("sorting by value is left to the caller, who holds the rebuilt values") {
  Harness h;
  REQUIRE(h.put("a", "share-a").ok());
  REQUIRE(h.put("b", "share-b").ok());
  REQUIRE(h.put("c", "share-c").ok());
  RangeOp op;
  op.key = "a";
  op.range_end = "d";
  op.sort_target = SortTarget::kValue;
  op.sort_order = SortOrder::kDescend;
  op.limit = 2;
  op.keys_only = true;
  auto r = h.store->range(op);
  REQUIRE(r.ok());
  CHECK(r->value_sort_pending);
  REQUIRE(r->kvs.size() == 3);                     // no limit yet
  CHECK(r->kvs[0].share == "share-a");             // shares kept so values can be rebuilt even for keys_only
  std::vector<std::string> values{"m", "z", "a"};  // pretend-rebuilt values of a, b, c
  REQUIRE(finish_value_sort(*r, values, op.sort_order, op.limit).ok());
  CHECK(keys_of(*r) == std::vector<std::string>{"b", "a"});
  CHECK(values[0] == "z");
  CHECK(r->more);
  CHECK_FALSE(r->value_sort_pending);
}

TEST_CASE("mod and create revision filters do not change count") {
  Harness h;
  REQUIRE(h.put("a", "1").ok());  // 2
  REQUIRE(h.put("b", "1").ok());  // 3
  REQUIRE(h.put("c", "1").ok());  // 4
  RangeOp op;
  op.key = "a";
  op.range_end = "z";
  op.min_mod_revision = 3;
  op.max_create_revision = 3;
  auto r = h.store->range(op);
  CHECK(keys_of(*r) == std::vector<std::string>{"b"});
  CHECK(r->count == 3);
}

TEST_CASE("reads at past revisions, future revisions and compaction errors with etcd's texts") {
  Harness h;
  REQUIRE(h.put("k", "v2").ok());  // 2
  REQUIRE(h.put("k", "v3").ok());  // 3
  REQUIRE(h.del("k").ok());        // 4
  REQUIRE(h.put("k", "v5").ok());  // 5
  CHECK(h.get("k", "", 2).kvs.at(0).share == "v2");
  CHECK(h.get("k", "", 3).kvs.at(0).share == "v3");
  CHECK(h.get("k", "", 4).kvs.empty());
  CHECK(h.get("k", "", 4).revision == 5);  // header is the current revision
  CHECK(h.get("k", "", 1).kvs.empty());

  RangeOp future;
  future.key = "k";
  future.revision = 6;
  auto f = h.store->range(future);
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().message == "etcdserver: mvcc: required revision is a future revision");
  CHECK(grpc_code_of(f.error()) == GrpcCode::kOutOfRange);

  auto c = h.compact(3);
  REQUIRE(c.ok());
  CHECK(h.store->compact_revision() == 3);
  CHECK(h.store->current_revision() == 5);           // compaction is not a revision
  CHECK(h.get("k", "", 3).kvs.at(0).share == "v3");  // reading at the compaction revision still works
  RangeOp old;
  old.key = "k";
  old.revision = 2;
  auto o = h.store->range(old);
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().message == "etcdserver: mvcc: required revision has been compacted");
  CHECK(grpc_code_of(o.error()) == GrpcCode::kOutOfRange);

  auto again = h.compact(3);
  REQUIRE_FALSE(again.ok());
  CHECK(is(again.error(), kCompacted));
  CHECK(h.store->applied_index() == 6);  // a refused entry is still applied (deterministically)
  auto ahead = h.compact(99);
  REQUIRE_FALSE(ahead.ok());
  CHECK(is(ahead.error(), kFutureRevision));
}

TEST_CASE("compaction drops superseded records and tombstones from the backend") {
  Harness h;
  REQUIRE(h.put("a", "a2").ok());  // 2
  REQUIRE(h.put("a", "a3").ok());  // 3
  REQUIRE(h.put("b", "b4").ok());  // 4
  REQUIRE(h.del("b").ok());        // 5
  REQUIRE(h.put("c", "c6").ok());  // 6
  CHECK(h.backend->records().size() == 5);
  REQUIRE(h.compact(5).ok());
  // Left: a@3 (live at 5) and c@6. Gone: a@2 (superseded), b@4 and its tombstone b@5.
  std::vector<std::string> left;
  for (const auto& [key, record] : h.backend->records())
    left.push_back(key.key + "@" + std::to_string(key.rev.main));
  CHECK(left == std::vector<std::string>{"a@3", "c@6"});
  CHECK(h.get("a", "d", 5).kvs.size() == 1);
  CHECK(h.get("a", "d").kvs.size() == 2);
}

TEST_CASE("get_at serves the share of one exact version for share gathering") {
  Harness h;
  REQUIRE(h.put("k", "s2").ok());
  REQUIRE(h.put("k", "s3").ok());
  auto kv = h.store->get_at("k", 2);
  REQUIRE(kv.ok());
  CHECK(kv->share == "s2");
  CHECK(kv->version == 1);
  CHECK(is(h.store->get_at("k", 9).error(), kFutureRevision));
  CHECK(is(h.store->get_at("other", 3).error(), kKeyNotFound));
  REQUIRE(h.compact(3).ok());
  CHECK(is(h.store->get_at("k", 2).error(), kCompacted));
}

TEST_CASE("entries must be applied in raft order; no-op entries advance the applied index") {
  Harness h;
  PutOp p{"k", 0u, 0, false, false, false};
  std::vector<std::string> shares{"s"};
  auto skipped = h.store->apply(2, Operation{p}, shares);
  REQUIRE_FALSE(skipped.ok());
  CHECK(is(skipped.error(), kIndexOutOfOrder));
  REQUIRE(h.store->apply_noop(1).ok());
  REQUIRE(h.store->apply(2, Operation{p}, shares).ok());
  CHECK(is(h.store->apply(2, Operation{p}, shares).error(), kIndexOutOfOrder));
  CHECK(h.store->applied_index() == 2);
}

TEST_CASE("the backend stores exactly the share bytes it was given, nothing derived from a value") {
  Harness h;
  const std::string share("\x01\x07\xfe\x00 opaque", 11);
  REQUIRE(h.put("secret/key", share).ok());
  REQUIRE(h.backend->records().size() == 1);
  const auto& [key, record] = *h.backend->records().begin();
  CHECK(key.key == "secret/key");
  CHECK(record.share == share);
  CHECK(record.create_revision == 2);
}

TEST_CASE("a put needs a share for its slot, and leases are refused") {
  Harness h;
  PutOp p{"k", 3u, 0, false, false, false};
  auto missing = h.apply(Operation{p}, {"only-slot-0"});
  REQUIRE_FALSE(missing.ok());
  CHECK(is(missing.error(), kMissingShare));
  CHECK(h.store->current_revision() == 1);

  PutOp leased{"k", 0u, 42, false, false, false};
  auto lease = h.apply(Operation{leased}, {"s"});
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.error().message == "etcdserver: requested lease not found");
}

TEST_CASE("ignore_value keeps this member's current share; on a missing key it is refused") {
  Harness h;
  PutOp p;
  p.key = "k";
  p.ignore_value = true;
  auto missing = h.apply(Operation{p});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "etcdserver: key not found");
  REQUIRE(h.put("k", "share-A").ok());
  auto r = h.apply(Operation{p});
  REQUIRE(r.ok());
  auto kv = h.get("k").kvs.at(0);
  CHECK(kv.share == "share-A");
  CHECK(kv.version == 2);
}

TEST_CASE("export and install move a member's whole state, history included") {
  Harness from;
  REQUIRE(from.put("a", "a2").ok());
  REQUIRE(from.put("b", "b3").ok());
  REQUIRE(from.put("a", "a4").ok());
  REQUIRE(from.del("b").ok());
  REQUIRE(from.compact(3).ok());
  REQUIRE(from.put("c", "c6").ok());

  std::vector<std::pair<RecordKey, Record>> records;
  auto meta = from.store->export_records([&](const RecordKey& key, const Record& record) {
    records.emplace_back(key, record);
    return etsecd::Status::Ok();
  });
  REQUIRE(meta.ok());
  CHECK(meta->applied_index == 6);
  CHECK(records.size() == from.backend->records().size());

  Harness to;
  REQUIRE(to.put("stale", "x").ok());  // whatever was there is replaced
  REQUIRE(to.store->install(meta.value(), records).ok());
  CHECK(to.store->applied_index() == 6);
  CHECK(to.store->current_revision() == from.store->current_revision());
  CHECK(to.store->compact_revision() == 3);
  for (int64_t rev = 3; rev <= to.store->current_revision(); ++rev) {
    CAPTURE(rev);
    auto want = from.get(std::string(1, '\0'), std::string(1, '\0'), rev);
    auto got = to.get(std::string(1, '\0'), std::string(1, '\0'), rev);
    CHECK(got.kvs == want.kvs);
  }
  CHECK(to.backend->records() == from.backend->records());
  REQUIRE(to.put("d", "d7").ok());  // and it carries on from there
  CHECK(to.store->current_revision() == 7);

  BackendMeta bad = meta.value();
  bad.current_revision = 2;  // records above it
  CHECK(is(to.store->install(bad, records).error(), kCorrupt));
}
