#pragma once
// The leader's in-memory store of other members' shares: every member's share of entries it proposed
// (so it can send them without recomputing), and shares fetched from holders after a leader change or
// an eviction (any k of which let it compute any member's share with repair_at). Bounded in bytes;
// the oldest entries go first, since the fetch-and-repair path can always recompute them.
// Volatile by design: it is never persisted, and a crash simply empties it.
//
// Slots of entries that fewer than k members hold are pinned: their shares exist nowhere else, so
// evicting them would strand the entry. The leader refuses new proposals while pinned bytes exceed the
// limit (back-pressure), which keeps the cache bounded.

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "etsecd/raft/types.h"

namespace etsecd::raft {

class ShareCache {
 public:
  explicit ShareCache(uint64_t byte_limit) : limit_(byte_limit) {}

  // Stores member x's shares of entry (index, term); a slot of another term at index is replaced.
  // Stores member x's shares of entry (index, term); a slot of another term at index is replaced.
  // Never evicts: shares fetched together are used together before shrink() runs.
  void put(uint64_t index, uint64_t term, uint8_t x, std::vector<Bytes> shares, bool pin = false);
  // Evicts the oldest unpinned slots for which keep(index) is false until the cache is within its
  // limit. The node calls this once per event and keeps slots of outstanding share fetches, so the
  // cache exceeds the limit only by what one event added plus the fetches in flight.
  void shrink(const std::function<bool(uint64_t)>& keep = {});
  void unpin_through(uint64_t index);
  const std::vector<Bytes>* find(uint64_t index, uint64_t term, uint8_t x) const;
  // Every cached member's shares of (index, term), keyed by x.
  const std::map<uint8_t, std::vector<Bytes>>* holders(uint64_t index, uint64_t term) const;

  void erase_through(uint64_t index);  // entries <= index are no longer needed
  void erase_from(uint64_t index);     // entries >= index were dropped from the log
  void clear();

  uint64_t bytes() const { return bytes_; }
  uint64_t pinned_bytes() const { return pinned_bytes_; }
  uint64_t limit() const { return limit_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Slot {
    uint64_t term = 0;
    uint64_t bytes = 0;
    bool pinned = false;
    std::map<uint8_t, std::vector<Bytes>> by_x;
  };
  void erase_slot(std::map<uint64_t, Slot>::iterator it);

  uint64_t limit_;
  uint64_t bytes_ = 0;
  uint64_t pinned_bytes_ = 0;
  uint64_t evictions_ = 0;
  std::map<uint64_t, Slot> slots_;
};

}  // namespace etsecd::raft
