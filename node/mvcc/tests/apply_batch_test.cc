#include <doctest/doctest.h>

#include <memory>

#include "harness.h"

using namespace etsecd;
using namespace etsecd::mvcc;
using namespace etsecd::mvcc::testing;

namespace {

// A MemoryBackend that outlives the stores opened over it (a restart) and counts durable batches.
class SharedBackend final : public Backend {
 public:
  SharedBackend(std::shared_ptr<MemoryBackend> inner, int* commits)
      : inner_(std::move(inner)), commits_(commits) {}
  Result<BackendMeta> load_meta() override { return inner_->load_meta(); }
  Status scan(const std::function<Status(const RecordKey&, const Record&)>& visit) override {
    return inner_->scan(visit);
  }
  Result<std::string> read_share(const RecordKey& key) override { return inner_->read_share(key); }
  Status commit(const WriteSet& writes) override {
    ++*commits_;
    return inner_->commit(writes);
  }
  Status sync() override { return Status::Ok(); }

 private:
  std::shared_ptr<MemoryBackend> inner_;
  int* commits_;
};

std::unique_ptr<Store> open_over(const std::shared_ptr<MemoryBackend>& inner, int* commits) {
  auto s = Store::open(std::make_unique<SharedBackend>(inner, commits));
  REQUIRE(s.ok());
  return std::move(s).value();
}

Operation put(const std::string& key, bool prev_kv = false) {
  PutOp p;
  p.key = key;
  p.value_slot = 0;
  p.prev_kv = prev_kv;
  return Operation{p};
}

}  // namespace

TEST_CASE("a batch of entries gives what applying them one by one gives, in one backend commit per run") {
  const std::vector<Operation> ops{put("a"),
                                   put("a", true),
                                   put("b"),
                                   Operation{DeleteRangeOp{"a", "", true}},
                                   Operation{CompactOp{4, false}},
                                   put("c", true),
                                   Operation{CompactOp{99, false}},
                                   put("b", true)};
  const std::vector<std::vector<std::string>> shares{{"a1"}, {"a2"}, {"b1"}, {}, {}, {"c1"}, {}, {"b2"}};

  auto one_inner = std::make_shared<MemoryBackend>();
  int one_commits = 0;
  auto one = open_over(one_inner, &one_commits);
  std::vector<Result<ApplyResult>> one_results;
  REQUIRE(one->apply_noop(1).ok());
  for (size_t i = 0; i < ops.size(); ++i) one_results.push_back(one->apply(i + 2, ops[i], shares[i]));

  auto batch_inner = std::make_shared<MemoryBackend>();
  int batch_commits = 0;
  auto batched = open_over(batch_inner, &batch_commits);
  std::vector<Store::ApplyEntry> entries{{1, nullptr, {}}};
  for (size_t i = 0; i < ops.size(); ++i) entries.push_back({i + 2, &ops[i], shares[i]});
  auto results = batched->apply_batch(entries);
  REQUIRE(results.ok());
  REQUIRE(results->size() == ops.size() + 1);

  // The noop, then each operation with the same verdict and revision as alone.
  CHECK((*results)[0].ok());
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& a = one_results[i];
    const auto& b = (*results)[i + 1];
    REQUIRE(a.ok() == b.ok());
    if (!a.ok()) {
      CHECK(a.error().code == b.error().code);
      continue;
    }
    CHECK(a->revision == b->revision);
    CHECK(a->result.index() == b->result.index());
  }
  // A later entry reads what an earlier one of the same batch put, before any of it is durable.
  REQUIRE(std::get<PutResult>((*results)[2]->result).prev_kv.has_value());
  CHECK(std::get<PutResult>((*results)[2]->result).prev_kv->share == "a1");
  CHECK(std::get<DeleteRangeResult>((*results)[4]->result).prev_kvs.at(0).share == "a2");
  CHECK(is((*results)[7].error(), kFutureRevision));  // fails alone; the entries after it still apply

  CHECK(one_inner->records() == batch_inner->records());
  CHECK(one_inner->load_meta().value() == batch_inner->load_meta().value());
  CHECK(batched->applied_index() == ops.size() + 1);
  // Entries 1-5, the compaction, entry 7, the failed compaction, entry 9: five commits instead of nine.
  CHECK(batch_commits == 5);
  CHECK(one_commits == 9);

  // After a restart the stored applied index names the last entry whose records are there.
  batched.reset();
  auto reopened = open_over(batch_inner, &batch_commits);
  CHECK(reopened->applied_index() == ops.size() + 1);
  CHECK(reopened->current_revision() == one->current_revision());
  RangeOp all;
  all.key = "a";
  all.range_end = "z";
  auto r = reopened->range(all);
  REQUIRE(r.ok());
  CHECK(keys_of(*r) == std::vector<std::string>{"b", "c"});
}

TEST_CASE("a batch that does not start right after the applied index changes nothing") {
  Harness h;
  const Operation p = put("k");
  const std::vector<std::string> s{"s"};
  std::vector<Store::ApplyEntry> gap{{1, &p, s}, {3, &p, s}};
  CHECK(is(h.store->apply_batch(gap).error(), kIndexOutOfOrder));
  std::vector<Store::ApplyEntry> late{{2, &p, s}};
  CHECK(is(h.store->apply_batch(late).error(), kIndexOutOfOrder));
  CHECK(h.store->applied_index() == 0);
  CHECK(h.store->current_revision() == 1);
  CHECK(h.backend->records().empty());
  CHECK(h.store->apply_batch({}).ok());
}
