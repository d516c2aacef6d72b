// The store against a deliberately naive reference model (a full copy of the key space per revision) on
// seeded random operation sequences: puts, deletes, txns with compares, compactions, and reads at random
// revisions with random limits, sorts and filters. Any difference fails with the seed and step.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

#include "etsecd/mvcc/entry_codec.h"
#include "etsecd/mvcc/validate.h"
#include "harness.h"

using namespace etsecd::mvcc;
using namespace etsecd::mvcc::testing;

namespace {

using State = std::map<std::string, KeyValue>;

bool in_range(const std::string& k, const std::string& key, const std::string& end) {
  if (end.empty()) return k == key;
  if (end == std::string(1, '\0')) return k >= key;
  return k >= key && k < end;
}

struct Model {
  std::map<int64_t, State> history{{1, State{}}};
  int64_t rev = 1;
  int64_t compacted = -1;

  const State& now() const { return history.at(rev); }

  // The expected result of a read, or the expected error code.
  std::variant<RangeResult, std::string> range(const RangeOp& op) const {
    int64_t at = op.revision <= 0 ? rev : op.revision;
    if (op.revision > rev) return std::string(kFutureRevision.code);
    if (op.revision > 0 && op.revision < compacted) return std::string(kCompacted.code);
    RangeResult r;
    r.revision = rev;
    r.keys_only = op.keys_only;
    std::vector<KeyValue> kvs;
    for (const auto& [k, kv] : history.at(at)) {
      if (in_range(k, op.key, op.range_end)) kvs.push_back(kv);
    }
    r.count = static_cast<int64_t>(kvs.size());
    if (op.count_only) return r;
    std::vector<KeyValue> kept;
    for (const auto& kv : kvs) {
      bool ok = (op.min_mod_revision == 0 || kv.mod_revision >= op.min_mod_revision) &&
                (op.max_mod_revision == 0 || kv.mod_revision <= op.max_mod_revision) &&
                (op.min_create_revision == 0 || kv.create_revision >= op.min_create_revision) &&
                (op.max_create_revision == 0 || kv.create_revision <= op.max_create_revision);
      if (ok) kept.push_back(kv);
    }
    auto field = [&](const KeyValue& kv) -> int64_t {
      switch (op.sort_target) {
        case SortTarget::kVersion:
          return kv.version;
        case SortTarget::kCreate:
          return kv.create_revision;
        case SortTarget::kMod:
          return kv.mod_revision;
        default:
          return 0;
      }
    };
    bool descend = op.sort_order == SortOrder::kDescend;
    if (op.sort_target == SortTarget::kKey) {
      if (descend) std::reverse(kept.begin(), kept.end());
    } else {
      std::stable_sort(kept.begin(), kept.end(), [&](const KeyValue& a, const KeyValue& b) {
        return descend ? field(a) > field(b) : field(a) < field(b);
      });
    }
    if (op.limit > 0 && static_cast<int64_t>(kept.size()) > op.limit) {
      kept.resize(static_cast<size_t>(op.limit));
      r.more = true;
    }
    if (op.keys_only) {
      for (auto& kv : kept) kv.share.clear();
    }
    r.kvs = kept;
    return r;
  }

  // Applies a validated op to `state` as revision rev+1; sets `changed` if it wrote anything.
  void write(State& state, const RequestOp& op, const std::vector<std::string>& shares, const State& before,
             bool& changed) const {
    if (const auto* p = std::get_if<PutOp>(&op.op)) {
      auto it = state.find(p->key);
      KeyValue kv;
      kv.key = p->key;
      kv.mod_revision = rev + 1;
      if (it != state.end()) {
        kv.create_revision = it->second.create_revision;
        kv.version = it->second.version + 1;
      } else {
        kv.create_revision = rev + 1;
        kv.version = 1;
      }
      kv.share = shares.at(*p->value_slot);
      state[p->key] = kv;
      changed = true;
    } else if (const auto* d = std::get_if<DeleteRangeOp>(&op.op)) {
      for (auto it = state.begin(); it != state.end();) {
        if (in_range(it->first, d->key, d->range_end)) {
          it = state.erase(it);
          changed = true;
        } else {
          ++it;
        }
      }
    } else if (const auto* t = std::get_if<TxnOp>(&op.op)) {
      bool ok = compares_hold(*t, before);
      for (const auto& sub : ok ? t->success : t->failure) write(state, sub, shares, before, changed);
    }
  }

  static bool compare_holds(const Compare& c, const State& s) {
    std::vector<const KeyValue*> kvs;
    for (const auto& [k, kv] : s) {
      if (in_range(k, c.key, c.range_end)) kvs.push_back(&kv);
    }
    auto test = [&](int64_t actual) {
      switch (c.result) {
        case CompareResult::kEqual:
          return actual == c.number;
        case CompareResult::kNotEqual:
          return actual != c.number;
        case CompareResult::kGreater:
          return actual > c.number;
        case CompareResult::kLess:
          return actual < c.number;
      }
      return false;
    };
    if (c.target == CompareTarget::kValue) {
      if (kvs.empty()) return false;
      // The model's "share" is the value itself, so the leader's verdict is computed here directly.
      bool want_equal = c.result == CompareResult::kEqual;
      return std::all_of(kvs.begin(), kvs.end(),
                         [&](const KeyValue* kv) { return (kv->share == "v0") == want_equal; });
    }
    if (kvs.empty()) return test(0);
    return std::all_of(kvs.begin(), kvs.end(), [&](const KeyValue* kv) {
      switch (c.target) {
        case CompareTarget::kVersion:
          return test(kv->version);
        case CompareTarget::kCreate:
          return test(kv->create_revision);
        case CompareTarget::kMod:
          return test(kv->mod_revision);
        default:
          return test(0);
      }
    });
  }
  static std::vector<ObservedKey> observe(const Compare& c, const State& s) {
    std::vector<ObservedKey> out;
    for (const auto& [k, kv] : s) {
      if (in_range(k, c.key, c.range_end)) out.push_back(ObservedKey{k, kv.mod_revision});
    }
    return out;
  }

  // Whether apply must answer RetryNeeded: a value compare on the evaluation path (compares in order,
  // stopping at the first false one; then the chosen branch's nested txns) was decided on other keys or
  // revisions than the state before the txn holds.
  static bool stale(const TxnOp& t, const State& before) {
    bool holds = true;
    for (const Compare& c : t.compares) {
      if (c.target == CompareTarget::kValue && observe(c, before) != c.observed) return true;
      if (!compare_holds(c, before)) {
        holds = false;
        break;
      }
    }
    for (const RequestOp& op : holds ? t.success : t.failure) {
      if (const auto* nested = std::get_if<TxnOp>(&op.op); nested != nullptr && stale(*nested, before))
        return true;
    }
    return false;
  }

  static bool compares_hold(const TxnOp& t, const State& s) {
    return std::all_of(t.compares.begin(), t.compares.end(),
                       [&](const Compare& c) { return compare_holds(c, s); });
  }

  // What the store must refuse at apply: a range at a compacted or future revision on the chosen path.
  std::string refusal(const std::vector<RequestOp>& ops, const State& before) const {
    for (const RequestOp& op : ops) {
      if (const auto* r = std::get_if<RangeOp>(&op.op)) {
        if (r->revision > rev) return std::string(kFutureRevision.code);
        if (r->revision > 0 && r->revision < compacted) return std::string(kCompacted.code);
      }
      if (const auto* t = std::get_if<TxnOp>(&op.op)) {
        std::string nested = refusal(compares_hold(*t, before) ? t->success : t->failure, before);
        if (!nested.empty()) return nested;
      }
    }
    return {};
  }

  void commit(State next, bool changed) {
    if (!changed) return;
    ++rev;
    history[rev] = std::move(next);
  }
};

struct Generator {
  std::mt19937_64 rng;
  explicit Generator(uint64_t seed) : rng(seed) {}

  int64_t below(int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); }
  std::string key() {
    static const char* keys[] = {"a", "ab", "abc", "b", "ba", "bb", "c", "d", "d/1", "d/2"};
    return keys[below(10)];
  }
  std::string end_for(const std::string& key) {
    switch (below(4)) {
      case 0:
        return "";
      case 1:
        return std::string(1, '\0');
      case 2: {
        std::string e = key;
        e.back() = static_cast<char>(e.back() + 1);
        return e;
      }
      default:
        return key + "zz";
    }
  }
  RangeOp range(int64_t current) {
    RangeOp r;
    r.key = key();
    r.range_end = end_for(r.key);
    if (below(3) == 0) r.revision = below(current + 3);
    if (below(3) == 0) r.limit = below(4);
    r.sort_order = static_cast<SortOrder>(below(3));
    r.sort_target = static_cast<SortTarget>(below(4));  // VALUE sort is the caller's job
    r.keys_only = below(5) == 0;
    r.count_only = below(7) == 0;
    if (below(5) == 0) r.min_mod_revision = below(current + 1);
    if (below(5) == 0) r.max_create_revision = below(current + 1);
    return r;
  }
  Compare compare(const Model& model) {
    Compare c;
    c.key = key();
    if (below(4) == 0) c.range_end = end_for(c.key);
    c.result = static_cast<CompareResult>(below(4));
    c.target = static_cast<CompareTarget>(below(4));
    c.number = below(model.rev + 2);
    if (c.target == CompareTarget::kValue) {
      // Act as the leader: observe the range and decide the compare from the (model's) values. A third
      // of the time the leader decided on an older state, as if writes committed in between.
      c.result = below(2) == 0 ? CompareResult::kEqual : CompareResult::kNotEqual;
      const State& seen = below(3) == 0 && model.rev > 1 ? model.history.at(model.rev - 1) : model.now();
      c.value_outcome = Model::compare_holds(c, seen);
      c.observed = Model::observe(c, seen);
    }
    return c;
  }
  RequestOp request(const Model& model, uint32_t& slot, int depth) {
    int64_t kind = below(depth > 0 ? 3 : 4);
    if (kind == 0) {
      PutOp p;
      p.key = key();
      p.value_slot = slot++;
      p.prev_kv = below(2) == 0;
      return RequestOp{p};
    }
    if (kind == 1) {
      DeleteRangeOp d;
      d.key = key();
      d.range_end = end_for(d.key);
      d.prev_kv = below(2) == 0;
      return RequestOp{d};
    }
    if (kind == 2) return RequestOp{range(model.rev)};
    return RequestOp{txn(model, slot, depth + 1)};
  }
  TxnOp txn(const Model& model, uint32_t& slot, int depth) {
    TxnOp t;
    for (int64_t i = below(3); i > 0; --i) t.compares.push_back(compare(model));
    for (int64_t i = below(4); i > 0; --i) t.success.push_back(request(model, slot, depth));
    for (int64_t i = below(3); i > 0; --i) t.failure.push_back(request(model, slot, depth));
    return t;
  }
  std::string share() {
    // "v0" is the value compares look for; other shares are random bytes.
    if (below(3) == 0) return "v0";
    std::string s(static_cast<size_t>(below(6) + 1), '\0');
    for (char& ch : s) ch = static_cast<char>(rng());
    return s;
  }
};

void check_same(const RangeResult& got, const RangeResult& want) {
  CHECK(got.count == want.count);
  CHECK(got.more == want.more);
  CHECK(got.revision == want.revision);
  CHECK(got.keys_only == want.keys_only);
  REQUIRE(got.kvs.size() == want.kvs.size());
  for (size_t i = 0; i < got.kvs.size(); ++i) CHECK(got.kvs[i] == want.kvs[i]);
}

int retries = 0;  // value-compare txns the model expected to be retried, over all seeds

void run(uint64_t seed, int steps) {
  Generator gen(seed);
  Model model;
  Harness h;
  for (int step = 0; step < steps; ++step) {
    CAPTURE(seed);
    CAPTURE(step);
    int64_t kind = gen.below(10);
    if (kind <= 3) {  // read
      RangeOp op = gen.range(model.rev);
      auto want = model.range(op);
      auto got = h.store->range(op);
      if (auto* code = std::get_if<std::string>(&want)) {
        REQUIRE_FALSE(got.ok());
        CHECK(got.error().code == *code);
      } else {
        REQUIRE(got.ok());
        check_same(got.value(), std::get<RangeResult>(want));
      }
      continue;
    }
    if (kind == 9) {  // compaction
      int64_t target = gen.below(model.rev + 2);
      auto r = h.compact(target);
      if (target <= model.compacted) {
        CHECK(is(r.error(), kCompacted));
      } else if (target > model.rev) {
        CHECK(is(r.error(), kFutureRevision));
      } else {
        REQUIRE(r.ok());
        model.compacted = target;
      }
      continue;
    }
    uint32_t slot = 0;
    Operation op;
    if (kind <= 5) {
      PutOp p;
      p.key = gen.key();
      p.value_slot = slot++;
      p.prev_kv = gen.below(2) == 0;
      op.op = p;
    } else if (kind == 6) {
      DeleteRangeOp d;
      d.key = gen.key();
      d.range_end = gen.end_for(d.key);
      d.prev_kv = true;
      op.op = d;
    } else {
      op.op = gen.txn(model, slot, 1);
    }
    if (!validate_operation(op).ok()) continue;  // duplicates etc.: refused before proposing
    // Every entry goes through the wire format, as it would through the raft log.
    auto decoded = decode_operation(encode_operation(op));
    REQUIRE(decoded.ok());
    std::vector<std::string> shares;
    for (uint32_t i = 0; i < slot; ++i) shares.push_back(gen.share());

    RequestOp as_request = std::visit(
        [](const auto& o) -> RequestOp {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, CompactOp>) {
            return RequestOp{};
          } else {
            return RequestOp{o};
          }
        },
        op.op);
    const auto* txn_op = std::get_if<TxnOp>(&op.op);
    if (txn_op != nullptr && Model::stale(*txn_op, model.now())) {
      auto r = h.apply(decoded.value(), shares);
      REQUIRE(r.ok());
      CHECK(std::holds_alternative<RetryNeeded>(r->result));
      CHECK(r->revision == model.rev);
      ++retries;
      continue;
    }
    std::string refused = model.refusal({as_request}, model.now());
    State next = model.now();
    bool changed = false;
    model.write(next, as_request, shares, model.now(), changed);
    auto r = h.apply(decoded.value(), shares);
    if (!refused.empty()) {
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == refused);
      CHECK(h.store->current_revision() == model.rev);
      continue;
    }
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    REQUIRE_FALSE(std::holds_alternative<RetryNeeded>(r->result));
    if (const auto* put = std::get_if<PutOp>(&op.op); put != nullptr && put->prev_kv) {
      auto it = model.now().find(put->key);
      const auto& prev = std::get<PutResult>(r->result).prev_kv;
      REQUIRE(prev.has_value() == (it != model.now().end()));
      if (prev) CHECK(*prev == it->second);
    }
    if (const auto* del = std::get_if<DeleteRangeOp>(&op.op)) {
      std::vector<KeyValue> want;
      for (const auto& [k, kv] : model.now()) {
        if (in_range(k, del->key, del->range_end)) want.push_back(kv);
      }
      const auto& got = std::get<DeleteRangeResult>(r->result);
      CHECK(got.deleted == static_cast<int64_t>(want.size()));
      CHECK(got.prev_kvs == want);
    }
    model.commit(std::move(next), changed);
    CHECK(r->revision == model.rev);
  }
  // Final full comparison at every readable revision.
  for (int64_t at = std::max<int64_t>(model.compacted, 1); at <= model.rev; ++at) {
    RangeOp all;
    all.key = std::string(1, '\0');
    all.range_end = std::string(1, '\0');
    all.revision = at;
    auto got = h.store->range(all);
    REQUIRE(got.ok());
    check_same(got.value(), std::get<RangeResult>(model.range(all)));
  }
}

}  // namespace

TEST_CASE("store matches the reference model on random operation sequences") {
  for (uint64_t seed = 1; seed <= 200; ++seed) run(seed, 300);
  CHECK(retries > 0);  // the stale-decision path was exercised
}
