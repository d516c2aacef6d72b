#include "etsecd/raftlog/rocks_raft_log.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>

#include "etsecd/wire/raft_codec.h"

namespace etsecd::raftlog {
namespace {

// Keys: "e" + 8-byte big-endian index (so RocksDB's order is log order), and a few meta keys.
constexpr char kEntryPrefix = 'e';
const std::string kHardStateKey = "m/hard_state";
const std::string kSnapshotKey = "m/snapshot";  // varint index, varint term, then encoded membership

void put_be64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (56 - 8 * i)) & 0xff));
}

uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string entry_key(uint64_t index) {
  std::string k(1, kEntryPrefix);
  put_be64(k, index);
  return k;
}

uint64_t index_of(const rocksdb::Slice& key) { return get_be64(key.data() + 1); }

std::span<const uint8_t> bytes_of(const rocksdb::Slice& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string encode_snapshot_meta(const raft::SnapshotMeta& meta) {
  // The membership codec is versioned; index and term go in front as fixed 8-byte fields.
  std::string out;
  put_be64(out, meta.index);
  put_be64(out, meta.term);
  return out + wire::encode_membership(meta.membership);
}

Result<raft::SnapshotMeta> decode_snapshot_meta(const std::string& s) {
  if (s.size() < 16) return make_error("raftlog.corrupt", "snapshot metadata is truncated");
  raft::SnapshotMeta meta;
  meta.index = get_be64(s.data());
  meta.term = get_be64(s.data() + 8);
  auto m = wire::decode_membership(wire::as_bytes(s.substr(16)));
  if (!m) return make_error("raftlog.corrupt", "snapshot membership: " + m.error().message);
  meta.membership = std::move(*m);
  return meta;
}

bool need_sync(const std::optional<raft::HardState>& hard_state, const std::vector<raft::Entry>& entries,
               const std::vector<raft::ShareRepair>& repairs, const raft::HardState& stored) {
  if (!entries.empty() || !repairs.empty()) return true;
  return hard_state && (hard_state->term != stored.term || hard_state->vote != stored.vote);
}

struct RocksRaftLog::Impl {
  std::unique_ptr<rocksdb::DB> db;
  mutable std::mutex mu;  // guards the cached state below; the core and inspectors may read concurrently
  raft::HardState hard_state;
  raft::SnapshotMeta snapshot;
  std::deque<uint64_t> terms;  // terms[i] is the term of entry snapshot.index + 1 + i
  bool written = false;
  // The newest entries as written, always a suffix of the log (recent.back() is the last entry): the
  // core reads recent entries back on every commit (to apply them) and every resend, and a RocksDB
  // iterator plus decoding per Ready cost more than the copy. Bounded; older entries come from RocksDB.
  std::deque<raft::Entry> recent;
  uint64_t recent_bytes = 0;

  uint64_t last_index() const { return snapshot.index + terms.size(); }

  void cache_drop_from(uint64_t index) {
    while (!recent.empty() && recent.back().index >= index) {
      recent_bytes -= raft::entry_size(recent.back());
      recent.pop_back();
    }
  }

  void cache_drop_through(uint64_t index) {
    while (!recent.empty() && recent.front().index <= index) {
      recent_bytes -= raft::entry_size(recent.front());
      recent.pop_front();
    }
  }

  void cache_append(const std::vector<raft::Entry>& entries) {
    cache_drop_from(entries.front().index);
    if (!recent.empty() && recent.back().index + 1 != entries.front().index) {
      recent.clear();  // never a hole: the cache must stay one contiguous suffix
      recent_bytes = 0;
    }
    for (const auto& e : entries) {
      recent.push_back(e);
      recent_bytes += raft::entry_size(e);
    }
    while (recent.size() > 1 && (recent.size() > kCachedEntries || recent_bytes > kCachedBytes)) {
      recent_bytes -= raft::entry_size(recent.front());
      recent.pop_front();
    }
  }

  // Entries [lo, hi) from the cache if it holds lo (hi is known to be <= last_index() + 1).
  std::optional<std::vector<raft::Entry>> cached(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
    if (recent.empty() || lo < recent.front().index) return std::nullopt;
    std::vector<raft::Entry> out;
    uint64_t bytes = 0;
    for (auto i = lo; i < hi; ++i) {
      const raft::Entry& e = recent[i - recent.front().index];
      bytes += raft::entry_size(e);
      if (!out.empty() && bytes > max_bytes) break;
      out.push_back(e);
    }
    return out;
  }

  static constexpr size_t kCachedEntries = 4096;
  static constexpr uint64_t kCachedBytes = 16 << 20;

  Status load() {
    std::string v;
    auto st = db->Get(rocksdb::ReadOptions(), kHardStateKey, &v);
    if (st.ok()) {
      auto hs = wire::decode_hard_state(wire::as_bytes(v));
      if (!hs) return make_error("raftlog.corrupt", "hard state: " + hs.error().message);
      hard_state = *hs;
      written = true;
    } else if (!st.IsNotFound()) {
      return make_error("raftlog.open", "reading hard state: " + st.ToString());
    }
    st = db->Get(rocksdb::ReadOptions(), kSnapshotKey, &v);
    if (st.ok()) {
      auto snap = decode_snapshot_meta(v);
      if (!snap) return snap.error();
      snapshot = std::move(*snap);
      written = true;
    } else if (!st.IsNotFound()) {
      return make_error("raftlog.open", "reading snapshot metadata: " + st.ToString());
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    uint64_t expect = snapshot.index + 1;
    for (it->Seek(entry_key(expect)); it->Valid() && it->key()[0] == kEntryPrefix; it->Next()) {
      const uint64_t idx = index_of(it->key());
      if (idx != expect) {
        return make_error("raftlog.corrupt", "log has a hole at index " + std::to_string(expect));
      }
      auto e = wire::decode_entry(bytes_of(it->value()));
      if (!e) return make_error("raftlog.corrupt", "entry " + std::to_string(idx) + ": " + e.error().message);
      terms.push_back(e->term);
      ++expect;
      written = true;
    }
    if (!it->status().ok()) return make_error("raftlog.open", "scanning the log: " + it->status().ToString());
    return Status::Ok();
  }
};

RocksRaftLog::RocksRaftLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksRaftLog::~RocksRaftLog() = default;

Result<std::unique_ptr<RocksRaftLog>> RocksRaftLog::open(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_open_files = 256;
  options.keep_log_file_num = 2;
  // Memtable flushes are written back a megabyte at a time, not in one burst in front of the next WAL
  // fsync (which every write waits for).
  options.bytes_per_sync = 1 << 20;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(options, dir, &raw);
  if (!st.ok()) return make_error("raftlog.open", "cannot open raft log in '" + dir + "': " + st.ToString());
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  if (auto s = impl->load(); !s) return s.error();
  return std::unique_ptr<RocksRaftLog>(new RocksRaftLog(std::move(impl)));
}

raft::HardState RocksRaftLog::hard_state() const {
  std::lock_guard lock(impl_->mu);
  return impl_->hard_state;
}

raft::SnapshotMeta RocksRaftLog::snapshot_meta() const {
  std::lock_guard lock(impl_->mu);
  return impl_->snapshot;
}

uint64_t RocksRaftLog::first_index() const {
  std::lock_guard lock(impl_->mu);
  return impl_->snapshot.index + 1;
}

uint64_t RocksRaftLog::last_index() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_index();
}

bool RocksRaftLog::empty() const {
  std::lock_guard lock(impl_->mu);
  return !impl_->written;
}

Result<uint64_t> RocksRaftLog::term(uint64_t i) const {
  std::lock_guard lock(impl_->mu);
  const auto& snap = impl_->snapshot;
  if (i < snap.index) return make_error("raft.compacted", "entry " + std::to_string(i) + " is compacted");
  if (i == snap.index) return snap.term;
  if (i > impl_->last_index())
    return make_error("raft.unavailable", "entry " + std::to_string(i) + " is not stored");
  return impl_->terms[i - snap.index - 1];
}

Result<std::vector<raft::Entry>> RocksRaftLog::entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  {
    std::lock_guard lock(impl_->mu);
    if (lo <= impl_->snapshot.index) {
      return make_error("raft.compacted", "entry " + std::to_string(lo) + " is compacted");
    }
    if (hi > impl_->last_index() + 1) {
      return make_error("raft.unavailable", "entries up to " + std::to_string(hi - 1) + " are not stored");
    }
  }
  std::vector<raft::Entry> out;
  if (lo >= hi) return out;
  {
    std::lock_guard lock(impl_->mu);
    if (auto hit = impl_->cached(lo, hi, max_bytes)) return std::move(*hit);
  }
  rocksdb::ReadOptions ro;
  const std::string upper = entry_key(hi);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
  uint64_t bytes = 0;
  uint64_t expect = lo;
  for (it->Seek(entry_key(lo)); it->Valid(); it->Next()) {
    auto e = wire::decode_entry(bytes_of(it->value()));
    if (!e)
      return make_error("raftlog.corrupt", "entry " + std::to_string(expect) + ": " + e.error().message);
    if (e->index != expect)
      return make_error("raftlog.corrupt", "log has a hole at " + std::to_string(expect));
    bytes += raft::entry_size(*e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(std::move(*e));
    ++expect;
  }
  if (!it->status().ok()) return make_error("raftlog.read", it->status().ToString());
  if (out.empty()) return make_error("raft.unavailable", "entry " + std::to_string(lo) + " is not stored");
  return out;
}

Status RocksRaftLog::persist(const std::optional<raft::HardState>& hard_state,
                             const std::vector<raft::Entry>& entries,
                             const std::vector<raft::ShareRepair>& repairs) {
  if (!hard_state && entries.empty() && repairs.empty()) return Status::Ok();
  rocksdb::WriteBatch batch;
  std::lock_guard lock(impl_->mu);
  const uint64_t last = impl_->last_index();
  if (!entries.empty()) {
    const uint64_t first = entries.front().index;
    if (first <= impl_->snapshot.index) return make_error("raftlog.compacted", "append before the snapshot");
    if (first > last + 1) {
      return make_error("raftlog.log_gap",
                        "append at " + std::to_string(first) + " after last index " + std::to_string(last));
    }
    if (first <= last) batch.DeleteRange(entry_key(first), entry_key(last + 1));
    for (const auto& e : entries) batch.Put(entry_key(e.index), wire::encode_entry(e));
  }
  std::vector<raft::Entry> repaired;
  for (const auto& r : repairs) {
    std::string v;
    auto st = impl_->db->Get(rocksdb::ReadOptions(), entry_key(r.index), &v);
    if (!st.ok())
      return make_error("raftlog.write", "share repair of entry " + std::to_string(r.index) + ": not stored");
    auto e = wire::decode_entry(wire::as_bytes(v));
    if (!e || e->term != r.term || r.value >= e->shares.size()) {
      return make_error("raftlog.write",
                        "share repair does not match stored entry " + std::to_string(r.index));
    }
    e->shares[r.value] = r.share;
    batch.Put(entry_key(r.index), wire::encode_entry(*e));
    repaired.push_back(std::move(*e));
  }
  if (hard_state) batch.Put(kHardStateKey, wire::encode_hard_state(*hard_state));

  rocksdb::WriteOptions wo;
  // A member's acknowledgement promises its share is on disk (the commit rule counts it), and a vote
  // must survive a crash. The commit index alone need not: it is only ever re-learned from the leader
  // and may safely go back after a power loss (as in etcd, which syncs only for entries, term and vote).
  // Skipping that fsync takes one whole disk flush off every write's path, on the leader between its
  // quorum's acknowledgements and applying. The write still reaches the OS, so it survives kill -9,
  // and the next synced write makes it durable too (the WAL is sequential).
  wo.sync = need_sync(hard_state, entries, repairs, impl_->hard_state);
  auto st = impl_->db->Write(wo, &batch);
  if (!st.ok()) return make_error("raftlog.write", "writing the raft log: " + st.ToString());

  if (!entries.empty()) {
    impl_->terms.resize(entries.front().index - impl_->snapshot.index - 1);
    for (const auto& e : entries) impl_->terms.push_back(e.term);
    impl_->cache_append(entries);
  }
  for (auto& e : repaired) {  // the cache keeps exactly what RocksDB now holds
    auto& recent = impl_->recent;
    if (recent.empty() || e.index < recent.front().index || e.index > recent.back().index) continue;
    auto& cached = recent[e.index - recent.front().index];
    impl_->recent_bytes -= raft::entry_size(cached);
    impl_->recent_bytes += raft::entry_size(e);
    cached = std::move(e);
  }
  if (hard_state) impl_->hard_state = *hard_state;
  impl_->written = true;
  return Status::Ok();
}

Status RocksRaftLog::compact(uint64_t index, const raft::Membership& membership) {
  std::lock_guard lock(impl_->mu);
  auto& snap = impl_->snapshot;
  if (index <= snap.index) return Status::Ok();
  if (index > impl_->last_index())
    return make_error("raftlog.compacted", "cannot compact past the last index");
  raft::SnapshotMeta next{index, impl_->terms[index - snap.index - 1], membership};
  rocksdb::WriteBatch batch;
  batch.DeleteRange(entry_key(snap.index + 1), entry_key(index + 1));
  batch.Put(kSnapshotKey, encode_snapshot_meta(next));
  // No fsync of its own (it cost the loop up to 12 ms): a compaction lost in a crash leaves the entries
  // and the older snapshot point, which is consistent, and the next synced append makes it durable, as
  // the WAL is written in order.
  rocksdb::WriteOptions wo;
  auto st = impl_->db->Write(wo, &batch);
  if (!st.ok()) return make_error("raftlog.write", "compacting the raft log: " + st.ToString());
  impl_->terms.erase(impl_->terms.begin(), impl_->terms.begin() + static_cast<long>(index - snap.index));
  impl_->cache_drop_through(index);
  snap = std::move(next);
  impl_->written = true;
  return Status::Ok();
}

Status RocksRaftLog::install_snapshot(const raft::SnapshotMeta& meta) {
  std::lock_guard lock(impl_->mu);
  if (impl_->snapshot.index == meta.index && impl_->snapshot.term == meta.term) {
    return Status::Ok();  // already installed; entries appended since then stay
  }
  raft::HardState hs = impl_->hard_state;
  hs.commit = std::max(hs.commit, meta.index);
  rocksdb::WriteBatch batch;
  // Every entry goes, including any after meta.index: they were written before the repair and the
  // core's log restarts at the snapshot (the leader resends what follows).
  batch.DeleteRange(entry_key(0), entry_key(std::numeric_limits<uint64_t>::max()));
  batch.Put(kSnapshotKey, encode_snapshot_meta(meta));
  batch.Put(kHardStateKey, wire::encode_hard_state(hs));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = impl_->db->Write(wo, &batch);
  if (!st.ok()) return make_error("raftlog.write", "installing a snapshot: " + st.ToString());
  impl_->terms.clear();
  impl_->recent.clear();
  impl_->recent_bytes = 0;
  impl_->snapshot = meta;
  impl_->hard_state = hs;
  impl_->written = true;
  return Status::Ok();
}

}  // namespace etsecd::raftlog
