#include "etsecd/mvcc/memory_backend.h"

#include <mutex>

#include "etsecd/mvcc/errors.h"

namespace etsecd::mvcc {

Result<BackendMeta> MemoryBackend::load_meta() {
  std::shared_lock lock(mu_);
  return meta_;
}

Status MemoryBackend::scan(const std::function<Status(const RecordKey&, const Record&)>& visit) {
  std::shared_lock lock(mu_);
  for (const auto& [key, record] : records_) {
    if (Status s = visit(key, record); !s) return s;
  }
  return Status::Ok();
}

Result<std::string> MemoryBackend::read_share(const RecordKey& key) {
  std::shared_lock lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return make_error(kCorrupt, "indexed record missing from backend");
  return it->second.share;
}

Status MemoryBackend::commit(const WriteSet& writes) {
  std::unique_lock lock(mu_);
  for (const auto& key : writes.deletes) records_.erase(key);
  for (const auto& [key, record] : writes.puts) records_[key] = record;
  meta_ = writes.meta;
  return Status::Ok();
}

}  // namespace etsecd::mvcc
