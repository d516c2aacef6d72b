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
  // The records' metadata from the index first (cheap), then their shares in small batches (one
  // batched backend read each), stopping once the chunk holds max_bytes: so a chunk never exceeds the
  // byte bound by more than one record, and no more than one batch is read beyond it.
  constexpr size_t kReadBatch = 16;
  ExportChunk chunk;
  bool more = false;
  auto visit = [&](const std::string& key, const IndexEntry& e) {
    if (chunk.records.size() >= std::max<size_t>(1, max_records)) {
      more = true;
      return false;
    }
    chunk.records.emplace_back(RecordKey{key, e.rev},
                               Record{e.tombstone, e.create_revision, e.version, e.lease, {}});
    return true;
  };
  if (after) {
    index_->for_each_entry_after(at, *after, visit);
  } else {
    index_->for_each_entry(at, visit);
  }
  uint64_t bytes = 0;
  size_t end = chunk.records.size();
  std::vector<size_t> positions;
  std::vector<RecordKey> keys;
  for (size_t i = 0; i < end;) {
    positions.clear();
    keys.clear();
    size_t batch_end = i;
    for (; batch_end < end && positions.size() < kReadBatch; ++batch_end) {
      if (chunk.records[batch_end].second.tombstone) continue;
      positions.push_back(batch_end);
      keys.push_back(chunk.records[batch_end].first);
    }
    auto shares = backend_->read_shares(keys);
    if (!shares) return shares.error();
    for (size_t p = 0; p < positions.size(); ++p)
      chunk.records[positions[p]].second.share = std::move((*shares)[p]);
    for (size_t r = i; r < batch_end; ++r) {
      bytes += chunk.records[r].first.key.size() + chunk.records[r].second.share.size() + 32;
      if (bytes >= max_bytes && r + 1 < end) {
        end = r + 1;
        more = true;
        break;
      }
    }
    i = batch_end;
  }
  chunk.records.resize(end);
  chunk.done = !more;
  return chunk;
}

Result<std::vector<std::optional<std::string>>> Store::shares_of(std::span<const RecordKey> keys) const {
  if (broken_.load()) return broken_error();
  std::shared_lock lock(mu_);
  if (meta_.install.active) return make_error(kRepairing);
  std::vector<std::optional<std::string>> out(keys.size());
  std::vector<size_t> held;
  std::vector<RecordKey> held_keys;
  for (size_t i = 0; i < keys.size(); ++i) {
    const IndexEntry* e = index_->record(keys[i].key, keys[i].rev);
    if (e == nullptr || e->tombstone) continue;
    held.push_back(i);
    held_keys.push_back(keys[i]);
  }
  auto shares = backend_->read_shares(held_keys);
  if (!shares) return shares.error();
  for (size_t i = 0; i < held.size(); ++i) out[held[i]] = std::move((*shares)[i]);
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

bool Store::installing() const {
  std::shared_lock lock(mu_);
  return meta_.install.active;
}

InstallState Store::install_state() const {
  std::shared_lock lock(mu_);
  return meta_.install;
}

}  // namespace etsecd::mvcc
