#pragma once
// The MVCC store's records in RocksDB. Column families:
//   kv    (user key, main, sub) -> record: tombstone flag, create_revision, version, lease, share bytes
//   meta  "state" -> applied index, current revision, compaction revision
// Every Store::apply is one WriteBatch across both families (records and applied index move together),
// written with WriteOptions.sync so it is on disk before the entry counts as applied. Shares are stored
// uncompressed: they are uniformly random bytes, so compression would cost CPU and save nothing.
// RocksDB headers stay in the .cc (pimpl).

#include <memory>
#include <string>
#include <string_view>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/backend.h"

namespace etsecd::storage {

struct RocksOptions {
  bool sync = true;  // fsync each batch; off only for tests and benchmarks that say so
  bool create_if_missing = true;
};

class RocksBackend final : public mvcc::Backend {
 public:
  // Errors: storage.open with RocksDB's reason (also for a directory holding other column families).
  static Result<std::unique_ptr<RocksBackend>> open(const std::string& path,
                                                    const RocksOptions& options = {});
  ~RocksBackend() override;

  Result<mvcc::BackendMeta> load_meta() override;
  Status scan(const std::function<Status(const mvcc::RecordKey&, const mvcc::Record&)>& visit) override;
  Result<std::string> read_share(const mvcc::RecordKey& key) override;
  Result<std::vector<std::string>> read_shares(const std::vector<mvcc::RecordKey>& keys) override;
  Status commit(const mvcc::WriteSet& writes) override;
  Status sync() override;  // fsyncs the WAL

 private:
  struct Impl;
  explicit RocksBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The on-disk encodings, exposed for `etsecd-node inspect` and tests.
std::string encode_record_key(const mvcc::RecordKey& key);
Result<mvcc::RecordKey> decode_record_key(std::string_view bytes);
std::string encode_record(const mvcc::Record& record);
Result<mvcc::Record> decode_record(std::string_view bytes);

}  // namespace etsecd::storage
