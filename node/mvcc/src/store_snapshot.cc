// Share repair on the KV side: a consistent snapshot of the records streamed in bounded chunks, and its
// chunk-by-chunk, resumable installation on the receiving member. docs/protocol.md section 9.

#include <mutex>

#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/store.h"
#include "key_index.h"

namespace etsecd::mvcc {

namespace {
Error broken_error() { return make_error(kStorage, "store stopped after a storage failure"); }
}  // namespace

Result<Store::ExportChunk> Store::export_chunk(int64_t at, const std::optional<RecordKey>& after,
                                               size_t max_records, uint64_t max_bytes) const {
  if (broken_.load()) return broken_error();
  std::shared_lock lock(mu_);
  if (meta_.install.active) return make_error(kRepairing);
  if (at > meta_.current_revision) return make_error(kFutureRevision);
  ExportChunk chunk;
  uint64_t bytes = 0;
  bool more = false;
  Status status;
  auto visit = [&](const std::string& key, const IndexEntry& e) {
    if (chunk.records.size() >= std::max<size_t>(1, max_records) ||
        (!chunk.records.empty() && bytes >= max_bytes)) {
      more = true;
      return false;
    }
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
    bytes += record_key.key.size() + record.share.size() + 32;
    chunk.records.emplace_back(std::move(record_key), std::move(record));
    return true;
  };
  if (after) {
    index_->for_each_entry_after(at, *after, visit);
  } else {
    index_->for_each_entry(at, visit);
  }
  if (!status) return status.error();
  chunk.done = !more;
  return chunk;
}

Result<std::vector<std::optional<std::string>>> Store::shares_of(std::span<const RecordKey> keys) const {
  if (broken_.load()) return broken_error();
  std::shared_lock lock(mu_);
  if (meta_.install.active) return make_error(kRepairing);
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const RecordKey& key : keys) {
    const IndexEntry* e = index_->record(key.key, key.rev);
    if (e == nullptr || e->tombstone) {
      out.emplace_back();
      continue;
    }
    auto share = share_of(key);
    if (!share) return share.error();
    out.emplace_back(std::move(share.value()));
  }
  return out;
}

SnapshotPoint Store::snapshot_point() const {
  std::shared_lock lock(mu_);
  return SnapshotPoint{meta_.applied_index, meta_.current_revision, meta_.compact_revision};
}

Status Store::begin_install(uint64_t source, const SnapshotPoint& target) {
  if (broken_.load()) return broken_error();
  if (target.current_revision < kInitialRevision || target.compact_revision > target.current_revision) {
    return make_error(kCorrupt, "snapshot revisions are inconsistent");
  }
  std::unique_lock lock(mu_);
  WriteSet writes;
  writes.deletes = index_->all_records();
  writes.meta = meta_;
  writes.meta.install = InstallState{true, source, target, false, {}};
  if (Status s = backend_->commit(writes); !s) return fail(s.error());
  index_ = std::make_unique<KeyIndex>();
  meta_ = writes.meta;
  return Status::Ok();
}

Status Store::install_chunk(const std::vector<std::pair<RecordKey, Record>>& records) {
  if (broken_.load()) return broken_error();
  std::unique_lock lock(mu_);
  if (!meta_.install.active) return make_error(kNoInstall);
  const InstallState& st = meta_.install;
  const RecordKey* prev = st.started ? &st.cursor : nullptr;
  for (const auto& [key, record] : records) {
    if (key.rev.main < 1 || key.rev.main > st.target.current_revision || key.rev.sub < 0) {
      return make_error(kCorrupt, "snapshot record revision outside the snapshot's revision range");
    }
    if (prev != nullptr && !(*prev < key)) return make_error(kCorrupt, "snapshot records out of order");
    if (record.tombstone != record.share.empty()) {
      return make_error(kCorrupt, "snapshot record share does not match its kind");
    }
    prev = &key;
  }
  if (records.empty()) return Status::Ok();
  WriteSet writes;
  writes.puts = records;
  writes.meta = meta_;
  writes.meta.install.started = true;
  writes.meta.install.cursor = records.back().first;
  if (Status s = backend_->commit(writes); !s) return fail(s.error());
  for (const auto& [key, record] : records) {
    index_->add(key.key,
                IndexEntry{key.rev, record.create_revision, record.version, record.lease, record.tombstone});
  }
  meta_ = writes.meta;
  return Status::Ok();
}

Status Store::finish_install() {
  if (broken_.load()) return broken_error();
  std::unique_lock lock(mu_);
  if (!meta_.install.active) return make_error(kNoInstall);
  WriteSet writes;
  const SnapshotPoint target = meta_.install.target;
  writes.meta.applied_index = target.applied_index;
  writes.meta.current_revision = target.current_revision;
  writes.meta.compact_revision = target.compact_revision;
  if (Status s = backend_->commit(writes); !s) return fail(s.error());
  meta_ = writes.meta;
  return Status::Ok();
}

InstallState Store::install_state() const {
  std::shared_lock lock(mu_);
  return meta_.install;
}

}  // namespace etsecd::mvcc
