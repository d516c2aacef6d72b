#include "etsecd/storage/rocks_backend.h"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <vector>

#include "etsecd/mvcc/errors.h"

namespace etsecd::storage {
namespace {

constexpr uint8_t kRecordFormat = 1;
constexpr uint8_t kMetaFormat = 1;
constexpr char kMetaKey[] = "state";
constexpr char kKvFamily[] = "kv";
constexpr char kMetaFamily[] = "meta";

void put_be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get_be64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}
uint64_t get_le64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}

// A record key's user-key part (the length prefix and the key; the last 16 bytes are the revision). The
// kv family's memtable hashes on it, so that an insert searches only that key's own revisions: in one
// skiplist of every record, each apply's insert was a walk of cache misses (~4% of the members' CPU at
// 64 clients).
class UserKeyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "etsecd.UserKeyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - kRevisionBytes);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 4 + kRevisionBytes; }

 private:
  static constexpr size_t kRevisionBytes = 16;
};

Error rocks_error(const char* what, const rocksdb::Status& s) {
  return mvcc::make_error(mvcc::kStorage, std::string(what) + ": " + s.ToString());
}

}  // namespace

std::string encode_record_key(const mvcc::RecordKey& key) {
  // Length-prefixed so no user key byte needs escaping; big-endian so one key's revisions sort in order.
  std::string out;
  out.reserve(4 + key.key.size() + 16);
  auto n = static_cast<uint32_t>(key.key.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  out.append(key.key);
  put_be64(out, static_cast<uint64_t>(key.rev.main));
  put_be64(out, static_cast<uint64_t>(key.rev.sub));
  return out;
}

Result<mvcc::RecordKey> decode_record_key(std::string_view in) {
  if (in.size() < 20) return mvcc::make_error(mvcc::kCorrupt, "record key too short");
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  if (in.size() != 20 + static_cast<size_t>(n))
    return mvcc::make_error(mvcc::kCorrupt, "record key length mismatch");
  mvcc::RecordKey key;
  key.key = std::string(in.substr(4, n));
  key.rev.main = static_cast<int64_t>(get_be64(in.substr(4 + n)));
  key.rev.sub = static_cast<int64_t>(get_be64(in.substr(12 + n)));
  return key;
}

namespace {

// Format 1: the three meta values (25 bytes). Format 2 appends an active install (share repair):
// source, target point, started flag and cursor record key.
constexpr uint8_t kMetaFormatInstall = 2;

void put_point(std::string& out, const mvcc::SnapshotPoint& p) {
  put_le64(out, p.applied_index);
  put_le64(out, static_cast<uint64_t>(p.current_revision));
  put_le64(out, static_cast<uint64_t>(p.compact_revision));
}

mvcc::SnapshotPoint get_point(std::string_view in) {
  mvcc::SnapshotPoint p;
  p.applied_index = get_le64(in);
  p.current_revision = static_cast<int64_t>(get_le64(in.substr(8)));
  p.compact_revision = static_cast<int64_t>(get_le64(in.substr(16)));
  return p;
}

std::string encode_meta(const mvcc::BackendMeta& meta) {
  std::string out;
  const bool install = meta.install.active;
  out.push_back(static_cast<char>(install ? kMetaFormatInstall : kMetaFormat));
  put_point(out, mvcc::SnapshotPoint{meta.applied_index, meta.current_revision, meta.compact_revision});
  if (install) {
    put_le64(out, meta.install.source);
    put_point(out, meta.install.target);
    out.push_back(static_cast<char>(meta.install.started ? 1 : 0));
    if (meta.install.started) out.append(encode_record_key(meta.install.cursor));
  }
  return out;
}

Result<mvcc::BackendMeta> decode_meta(std::string_view in) {
  const bool v1 = in.size() == 25 && static_cast<uint8_t>(in[0]) == kMetaFormat;
  const bool v2 = in.size() >= 58 && static_cast<uint8_t>(in[0]) == kMetaFormatInstall;
  if (!v1 && !v2) return mvcc::make_error(mvcc::kCorrupt, "meta state has an unknown format");
  mvcc::BackendMeta meta;
  const mvcc::SnapshotPoint p = get_point(in.substr(1));
  meta.applied_index = p.applied_index;
  meta.current_revision = p.current_revision;
  meta.compact_revision = p.compact_revision;
  if (v2) {
    meta.install.active = true;
    meta.install.source = get_le64(in.substr(25));
    meta.install.target = get_point(in.substr(33));
    meta.install.started = in[57] != 0;
    if (meta.install.started) {
      auto cursor = decode_record_key(in.substr(58));
      if (!cursor) return mvcc::make_error(mvcc::kCorrupt, "meta state has a bad install cursor");
      meta.install.cursor = std::move(*cursor);
    } else if (in.size() != 58) {
      return mvcc::make_error(mvcc::kCorrupt, "meta state has an unknown format");
    }
  }
  return meta;
}

}  // namespace

std::string encode_record(const mvcc::Record& record) {
  std::string out;
  out.reserve(26 + record.share.size());
  out.push_back(static_cast<char>(kRecordFormat));
  out.push_back(static_cast<char>(record.tombstone ? 1 : 0));
  put_le64(out, static_cast<uint64_t>(record.create_revision));
  put_le64(out, static_cast<uint64_t>(record.version));
  put_le64(out, static_cast<uint64_t>(record.lease));
  out.append(record.share);
  return out;
}

Result<mvcc::Record> decode_record(std::string_view in) {
  if (in.size() < 26 || static_cast<uint8_t>(in[0]) != kRecordFormat || static_cast<uint8_t>(in[1]) > 1) {
    return mvcc::make_error(mvcc::kCorrupt, "record has an unknown format");
  }
  mvcc::Record record;
  record.tombstone = in[1] == 1;
  record.create_revision = static_cast<int64_t>(get_le64(in.substr(2)));
  record.version = static_cast<int64_t>(get_le64(in.substr(10)));
  record.lease = static_cast<int64_t>(get_le64(in.substr(18)));
  record.share = std::string(in.substr(26));
  return record;
}

struct RocksBackend::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // default, kv, meta
  rocksdb::WriteOptions write_options;

  rocksdb::ColumnFamilyHandle* kv() const { return handles[1]; }
  rocksdb::ColumnFamilyHandle* meta() const { return handles[2]; }

  ~Impl() {
    for (auto* h : handles) {
      if (db) db->DestroyColumnFamilyHandle(h);
    }
    if (db) db->Close();
  }
};

RocksBackend::RocksBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksBackend::~RocksBackend() = default;

Result<std::unique_ptr<RocksBackend>> RocksBackend::open(const std::string& path,
                                                         const RocksOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  // Writes here are not synced one by one (the Raft log is the durable copy); the member loop syncs the
  // WAL before each Raft log compaction, every --snapshot-count entries. Left to the kernel, that sync
  // wrote out megabytes of dirty WAL at once: 10-33 ms with the loop stopped, on every member at about
  // the same index, so every write in flight waited. Written back a megabyte at a time in the
  // background, the sync takes 2-4 ms. Flushed and compacted files get the same treatment, so they do not
  // land on the disk in one burst in front of the Raft logs' fsyncs.
  db_options.wal_bytes_per_sync = 1 << 20;
  db_options.bytes_per_sync = 1 << 20;
  rocksdb::ColumnFamilyOptions kv_options;
  kv_options.compression = rocksdb::kNoCompression;
  kv_options.prefix_extractor = std::make_shared<UserKeyPrefix>();
  kv_options.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(16384));
  db_options.allow_concurrent_memtable_write = false;  // the hash memtable takes one writer at a time
  std::vector<rocksdb::ColumnFamilyDescriptor> families{
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kKvFamily, kv_options},
      {kMetaFamily, rocksdb::ColumnFamilyOptions()},
  };
  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, families, &impl->handles, &raw);
  if (!s.ok())
    return etsecd::make_error("storage.open", "cannot open MVCC store at " + path + ": " + s.ToString());
  impl->db.reset(raw);
  impl->write_options.sync = options.sync;
  return std::unique_ptr<RocksBackend>(new RocksBackend(std::move(impl)));
}

Result<mvcc::BackendMeta> RocksBackend::load_meta() {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta(), kMetaKey, &value);
  if (s.IsNotFound()) return mvcc::BackendMeta{};
  if (!s.ok()) return rocks_error("reading meta", s);
  return decode_meta(value);
}

Status RocksBackend::scan(const std::function<Status(const mvcc::RecordKey&, const mvcc::Record&)>& visit) {
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;
  read_options.total_order_seek = true;  // every record, not one prefix's
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->kv()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = decode_record_key(std::string_view(it->key().data(), it->key().size()));
    if (!key) return key.error();
    auto record = decode_record(std::string_view(it->value().data(), it->value().size()));
    if (!record) return record.error();
    if (Status st = visit(key.value(), record.value()); !st) return st;
  }
  if (!it->status().ok()) return rocks_error("scanning records", it->status());
  return Status::Ok();
}

Result<std::string> RocksBackend::read_share(const mvcc::RecordKey& key) {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->kv(), encode_record_key(key), &value);
  if (s.IsNotFound()) return mvcc::make_error(mvcc::kCorrupt, "indexed record missing from RocksDB");
  if (!s.ok()) return rocks_error("reading a record", s);
  auto record = decode_record(value);
  if (!record) return record.error();
  return std::move(record.value().share);
}

Result<std::vector<std::string>> RocksBackend::read_shares(const std::vector<mvcc::RecordKey>& keys) {
  std::vector<std::string> encoded;
  encoded.reserve(keys.size());
  for (const auto& k : keys) encoded.push_back(encode_record_key(k));
  std::vector<rocksdb::Slice> slices(encoded.begin(), encoded.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->kv(), slices.size(), slices.data(), values.data(),
                      statuses.data());
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound())
      return mvcc::make_error(mvcc::kCorrupt, "indexed record missing from RocksDB");
    if (!statuses[i].ok()) return rocks_error("reading records", statuses[i]);
    auto record = decode_record(values[i].ToStringView());
    if (!record) return record.error();
    out.push_back(std::move(record.value().share));
  }
  return out;
}

Status RocksBackend::commit(const mvcc::WriteSet& writes) {
  rocksdb::WriteBatch batch;
  for (const auto& key : writes.deletes) {
    if (auto s = batch.Delete(impl_->kv(), encode_record_key(key)); !s.ok()) return rocks_error("batch", s);
  }
  for (const auto& [key, record] : writes.puts) {
    if (auto s = batch.Put(impl_->kv(), encode_record_key(key), encode_record(record)); !s.ok()) {
      return rocks_error("batch", s);
    }
  }
  if (auto s = batch.Put(impl_->meta(), kMetaKey, encode_meta(writes.meta)); !s.ok())
    return rocks_error("batch", s);
  rocksdb::Status s = impl_->db->Write(impl_->write_options, &batch);
  if (!s.ok()) return rocks_error("writing a batch", s);
  return Status::Ok();
}

Status RocksBackend::sync() {
  rocksdb::Status s = impl_->db->SyncWAL();
  if (!s.ok()) return rocks_error("syncing the WAL", s);
  return Status::Ok();
}

}  // namespace etsecd::storage
