#pragma once
// A Backend in memory, for tests and the simulator. commit() is atomic; nothing survives the object.
// Reads may run concurrently with a commit (the Store commits outside its own lock), hence the mutex.

#include <map>
#include <shared_mutex>

#include "etsecd/mvcc/backend.h"

namespace etsecd::mvcc {

class MemoryBackend final : public Backend {
 public:
  Result<BackendMeta> load_meta() override;
  Status scan(const std::function<Status(const RecordKey&, const Record&)>& visit) override;
  Result<std::string> read_share(const RecordKey& key) override;
  Status commit(const WriteSet& writes) override;
  Status sync() override { return Status::Ok(); }

  // For tests, while no commit runs: the raw stored records.
  const std::map<RecordKey, Record>& records() const { return records_; }

 private:
  mutable std::shared_mutex mu_;
  std::map<RecordKey, Record> records_;
  BackendMeta meta_;
};

}  // namespace etsecd::mvcc
