#include "etsecd/mvcc/store.h"

#include <algorithm>
#include <mutex>

#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/validate.h"
#include "key_index.h"
#include "range_eval.h"

namespace etsecd::mvcc {

Store::Store(std::unique_ptr<Backend> backend)
    : backend_(std::move(backend)), index_(std::make_unique<KeyIndex>()) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(std::unique_ptr<Backend> backend) {
  std::unique_ptr<Store> store(new Store(std::move(backend)));
  auto meta = store->backend_->load_meta();
  if (!meta) return meta.error();
  store->meta_ = meta.value();
  if (store->meta_.current_revision < kInitialRevision ||
      store->meta_.compact_revision > store->meta_.current_revision) {
    return make_error(kCorrupt, "stored revisions are inconsistent");
  }
  // A half-installed snapshot holds records up to the snapshot's revision (store_snapshot.cc).
  const int64_t current = store->meta_.install.active ? std::max(store->meta_.current_revision,
                                                                 store->meta_.install.target.current_revision)
                                                      : store->meta_.current_revision;
  Status scanned = store->backend_->scan([&](const RecordKey& key, const Record& record) -> Status {
    if (key.rev.main > current || key.rev.main < 1 || key.rev.sub < 0) {
      return make_error(kCorrupt, "record revision outside the stored revision range");
    }
    store->index_->add(
        key.key, IndexEntry{key.rev, record.create_revision, record.version, record.lease, record.tombstone});
    return Status::Ok();
  });
  if (!scanned) return scanned.error();
  store->index_->sort_histories();
  return store;
}

Status Store::fail(const Error& error) {
  broken_.store(true);
  return make_error(kStorage, error.message);
}

Result<std::string> Store::share_of(const RecordKey& key) const { return backend_->read_share(key); }

Result<RangeResult> Store::range(const RangeOp& op) const {
  if (Status s = validate_range(op); !s) return s.error();
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  std::shared_lock lock(mu_);
  if (meta_.install.active) return make_error(kRepairing);
  auto rev = resolve_read_revision(op.revision, meta_.current_revision, meta_.compact_revision);
  if (!rev) return rev.error();
  return evaluate_range(*index_, op, rev.value(), meta_.current_revision,
                        [this](const RecordKey& key) { return share_of(key); });
}

Result<KeyValue> Store::get_at(std::string_view key, int64_t mod_revision) const {
  if (key.empty()) return make_error(kEmptyKey);
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  std::shared_lock lock(mu_);
  if (meta_.install.active) return make_error(kRepairing);
  // Checked first: the index may already hold an entry being applied above the published revision.
  if (mod_revision > meta_.current_revision) return make_error(kFutureRevision);
  const IndexEntry* entry = index_->exact(key, mod_revision);
  if (entry == nullptr) {
    if (mod_revision < meta_.compact_revision) return make_error(kCompacted);
    return make_error(kKeyNotFound);
  }
  KeyValue kv = to_key_value(std::string(key), *entry);
  auto share = share_of(RecordKey{kv.key, entry->rev});
  if (!share) return share.error();
  kv.share = std::move(share.value());
  return kv;
}

Result<BackendMeta> Store::export_records(
    const std::function<Status(const RecordKey&, const Record&)>& visit) const {
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  std::shared_lock lock(mu_);
  if (meta_.install.active) return make_error(kRepairing);
  Status status;
  index_->for_each_entry(meta_.current_revision, [&](const std::string& key, const IndexEntry& e) {
    RecordKey record_key{key, e.rev};
    Record record{e.tombstone, e.create_revision, e.version, e.lease, {}};
    if (!e.tombstone) {
      auto share = share_of(record_key);
      if (!share) {
        status = share.error();
        return false;
      }
      record.share = std::move(share.value());
    }
    status = visit(record_key, record);
    return status.ok();
  });
  if (!status) return status.error();
  return meta_;
}

Status Store::install(const BackendMeta& meta, const std::vector<std::pair<RecordKey, Record>>& records) {
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  if (meta.current_revision < kInitialRevision || meta.compact_revision > meta.current_revision) {
    return make_error(kCorrupt, "snapshot revisions are inconsistent");
  }
  for (const auto& [key, record] : records) {
    if (key.rev.main < 1 || key.rev.main > meta.current_revision || key.rev.sub < 0) {
      return make_error(kCorrupt, "snapshot record revision outside the snapshot's revision range");
    }
  }
  std::unique_lock lock(mu_);
  WriteSet writes;
  writes.deletes = index_->all_records();
  writes.puts = records;
  writes.meta = meta;
  if (Status s = backend_->commit(writes); !s) return fail(s.error());
  auto index = std::make_unique<KeyIndex>();
  for (const auto& [key, record] : records) {
    index->add(key.key,
               IndexEntry{key.rev, record.create_revision, record.version, record.lease, record.tombstone});
  }
  index->sort_histories();
  index_ = std::move(index);
  meta_ = meta;
  return Status::Ok();
}

Result<uint64_t> Store::sync() {
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  // Read first: everything up to this index was committed before, so the sync covers it.
  uint64_t index = applied_index();
  if (Status s = backend_->sync(); !s) return fail(s.error()).error();
  return index;
}

uint64_t Store::applied_index() const {
  std::shared_lock lock(mu_);
  return meta_.applied_index;
}

int64_t Store::current_revision() const {
  std::shared_lock lock(mu_);
  return meta_.current_revision;
}

int64_t Store::compact_revision() const {
  std::shared_lock lock(mu_);
  return meta_.compact_revision;
}

size_t Store::key_count() const {
  std::shared_lock lock(mu_);
  return index_->live_key_count(meta_.current_revision);
}

}  // namespace etsecd::mvcc
