#pragma once
// Where the store keeps its records: (key, revision) -> record with this member's share, plus a few meta
// values. The in-memory index is rebuilt from scan() on open, so a backend only needs point reads, a
// full scan and atomic durable batches. Implementations: MemoryBackend (tests, simulator) and
// storage::RocksBackend (etsecd/storage/rocks_backend.h).

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/revision.h"

namespace etsecd::mvcc {

struct RecordKey {
  std::string key;
  Revision rev;
  auto operator<=>(const RecordKey&) const = default;
};

struct Record {
  bool tombstone = false;
  int64_t create_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  std::string share;  // opaque bytes given by the caller; empty for tombstones
  bool operator==(const Record&) const = default;
};

// A snapshot's position in the raft log and revision space.
struct SnapshotPoint {
  uint64_t applied_index = 0;  // last raft entry whose effects are in the records
  int64_t current_revision = kInitialRevision;
  int64_t compact_revision = kNoCompaction;
  bool operator==(const SnapshotPoint&) const = default;
};

// A snapshot being installed chunk by chunk (share repair). Persisted with every chunk, so an
// interrupted repair resumes after `cursor` instead of starting over. While active, the records are a
// prefix of the snapshot and the store serves nothing.
struct InstallState {
  bool active = false;
  uint64_t source = 0;  // the caller's identifier of the snapshot (a resumption must match it)
  SnapshotPoint target;
  bool started = false;  // false: no record installed yet (cursor meaningless)
  RecordKey cursor;      // last record installed
  bool operator==(const InstallState&) const = default;
};

struct BackendMeta {
  uint64_t applied_index = 0;  // last raft entry whose effects are in the records
  int64_t current_revision = kInitialRevision;
  int64_t compact_revision = kNoCompaction;
  InstallState install;
  bool operator==(const BackendMeta&) const = default;
};

// Everything one applied entry changes. commit() makes all of it durable or none of it.
struct WriteSet {
  std::vector<std::pair<RecordKey, Record>> puts;
  std::vector<RecordKey> deletes;
  BackendMeta meta;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Result<BackendMeta> load_meta() = 0;
  // Calls visit for every record (any order). Stops and returns the first error visit returns.
  virtual Status scan(const std::function<Status(const RecordKey&, const Record&)>& visit) = 0;
  // The share of one record; an error if it is missing (the index said it exists).
  virtual Result<std::string> read_share(const RecordKey& key) = 0;
  // The shares of many records at once (share repair reads a chunk at a time); same errors. Backends
  // with a batched lookup override it.
  virtual Result<std::vector<std::string>> read_shares(const std::vector<RecordKey>& keys) {
    std::vector<std::string> out;
    out.reserve(keys.size());
    for (const RecordKey& k : keys) {
      auto share = read_share(k);
      if (!share) return share.error();
      out.push_back(std::move(share.value()));
    }
    return out;
  }
  virtual Status commit(const WriteSet& writes) = 0;
  // Makes every committed batch durable (for backends that commit without fsync).
  virtual Status sync() = 0;
};

}  // namespace etsecd::mvcc
