#pragma once
// In-memory index of every stored revision's metadata, per key, oldest first. Shares stay in the backend.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/mvcc/backend.h"
#include "key_span.h"

namespace etsecd::mvcc {

struct IndexEntry {
  Revision rev;
  int64_t create_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  bool tombstone = false;
};

class KeyIndex {
 public:
  // Revisions of one key must arrive in increasing order (apply and rebuild-after-sort both do).
  void add(const std::string& key, const IndexEntry& entry);
  // After rebuilding from an unordered scan: puts each key's history in revision order.
  void sort_histories();

  // The live entry of key as of revision `at` (its last change with main <= at), or nullptr if the key
  // did not exist then (never written, or deleted).
  const IndexEntry* visible(std::string_view key, int64_t at) const;
  // The put whose main revision is exactly mod_revision, or nullptr.
  const IndexEntry* exact(std::string_view key, int64_t mod_revision) const;

  // Calls f(key, entry) for every key in span live at `at`, in key order, until f returns false.
  template <class F>
  void for_each_visible(const KeySpan& span, int64_t at, F&& f) const {
    auto it = keys_.lower_bound(span.begin);
    for (; it != keys_.end() && span.contains(it->first); ++it) {
      const IndexEntry* entry = visible_in(it->second, at);
      if (entry != nullptr && !f(it->first, *entry)) return;
    }
  }

  // Calls f(key, entry) for every entry with main <= at, in key then revision order, until f returns false.
  template <class F>
  void for_each_entry(int64_t at, F&& f) const {
    for (const auto& [key, history] : keys_) {
      for (const IndexEntry& e : history) {
        if (e.rev.main <= at && !f(key, e)) return;
      }
    }
  }
  // Like for_each_entry, but only entries after `after` in (key, revision) order.
  template <class F>
  void for_each_entry_after(int64_t at, const RecordKey& after, F&& f) const {
    for (auto it = keys_.lower_bound(after.key); it != keys_.end(); ++it) {
      const bool same_key = it->first == after.key;
      for (const IndexEntry& e : it->second) {
        if (same_key && e.rev <= after.rev) continue;
        if (e.rev.main <= at && !f(it->first, e)) return;
      }
    }
  }
  // The entry for exactly this record, or nullptr.
  const IndexEntry* record(std::string_view key, const Revision& rev) const;
  std::vector<RecordKey> all_records() const;

  // Drops every revision not needed to read at `at` or later; returns the dropped records.
  std::vector<RecordKey> compact(int64_t at);

  size_t live_key_count(int64_t at) const;
  bool empty() const { return keys_.empty(); }

 private:
  static const IndexEntry* visible_in(const std::vector<IndexEntry>& history, int64_t at);
  std::map<std::string, std::vector<IndexEntry>, std::less<>> keys_;
};

}  // namespace etsecd::mvcc
