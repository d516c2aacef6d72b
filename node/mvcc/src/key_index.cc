#include "key_index.h"

#include <algorithm>

namespace etsecd::mvcc {

void KeyIndex::add(const std::string& key, const IndexEntry& entry) { keys_[key].push_back(entry); }

void KeyIndex::sort_histories() {
  for (auto& [key, history] : keys_) {
    std::sort(history.begin(), history.end(),
              [](const IndexEntry& a, const IndexEntry& b) { return a.rev < b.rev; });
  }
}

const IndexEntry* KeyIndex::visible_in(const std::vector<IndexEntry>& history, int64_t at) {
  // First entry with main > at; the one before it is the state as of `at`.
  auto it = std::upper_bound(history.begin(), history.end(), at,
                             [](int64_t rev, const IndexEntry& e) { return rev < e.rev.main; });
  if (it == history.begin()) return nullptr;
  --it;
  return it->tombstone ? nullptr : &*it;
}

const IndexEntry* KeyIndex::visible(std::string_view key, int64_t at) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : visible_in(it->second, at);
}

const IndexEntry* KeyIndex::exact(std::string_view key, int64_t mod_revision) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return nullptr;
  for (const IndexEntry& e : it->second) {
    if (e.rev.main == mod_revision && !e.tombstone) return &e;
  }
  return nullptr;
}

const IndexEntry* KeyIndex::record(std::string_view key, const Revision& rev) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return nullptr;
  auto e = std::lower_bound(it->second.begin(), it->second.end(), rev,
                            [](const IndexEntry& entry, const Revision& r) { return entry.rev < r; });
  return e != it->second.end() && e->rev == rev ? &*e : nullptr;
}

std::vector<RecordKey> KeyIndex::compact(int64_t at) {
  std::vector<RecordKey> dropped;
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto& history = it->second;
    auto keep_from = std::upper_bound(history.begin(), history.end(), at,
                                      [](int64_t rev, const IndexEntry& e) { return rev < e.rev.main; });
    if (keep_from != history.begin()) {
      --keep_from;                            // the state as of `at` is still readable at `at`...
      if (keep_from->tombstone) ++keep_from;  // ...unless it is a deletion, which reads as absent anyway
    }
    for (auto e = history.begin(); e != keep_from; ++e) dropped.push_back(RecordKey{it->first, e->rev});
    history.erase(history.begin(), keep_from);
    it = history.empty() ? keys_.erase(it) : std::next(it);
  }
  return dropped;
}

std::vector<RecordKey> KeyIndex::all_records() const {
  std::vector<RecordKey> out;
  for (const auto& [key, history] : keys_) {
    for (const IndexEntry& e : history) out.push_back(RecordKey{key, e.rev});
  }
  return out;
}

size_t KeyIndex::live_key_count(int64_t at) const {
  size_t n = 0;
  for (const auto& [key, history] : keys_) n += visible_in(history, at) != nullptr ? 1 : 0;
  return n;
}

}  // namespace etsecd::mvcc
