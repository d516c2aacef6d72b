#include "share_cache.h"

namespace etsecd::raft {
namespace {
uint64_t size_of(const std::vector<Bytes>& shares) {
  uint64_t n = 16;
  for (const Bytes& s : shares) n += s.size() + 8;
  return n;
}
}  // namespace

void ShareCache::put(uint64_t index, uint64_t term, uint8_t x, std::vector<Bytes> shares, bool pin) {
  auto it = slots_.find(index);
  if (it != slots_.end() && it->second.term != term) {
    erase_slot(it);
    it = slots_.end();
  }
  if (it == slots_.end()) it = slots_.emplace(index, Slot{term, 0, false, {}}).first;
  Slot& slot = it->second;
  if (pin && !slot.pinned) {
    slot.pinned = true;
    pinned_bytes_ += slot.bytes;
  }
  auto old = slot.by_x.find(x);
  if (old != slot.by_x.end()) {
    slot.bytes -= size_of(old->second);
    bytes_ -= size_of(old->second);
    if (slot.pinned) pinned_bytes_ -= size_of(old->second);
  }
  const uint64_t added = size_of(shares);
  slot.by_x[x] = std::move(shares);
  slot.bytes += added;
  bytes_ += added;
  if (slot.pinned) pinned_bytes_ += added;
}

void ShareCache::shrink(const std::function<bool(uint64_t)>& keep) {
  for (auto it = slots_.begin(); bytes_ > limit_ && it != slots_.end();) {
    if (it->second.pinned || (keep && keep(it->first))) {
      ++it;
      continue;
    }
    auto next = std::next(it);
    erase_slot(it);
    ++evictions_;
    it = next;
  }
}

void ShareCache::unpin_through(uint64_t index) {
  for (auto it = slots_.begin(); it != slots_.end() && it->first <= index; ++it) {
    if (!it->second.pinned) continue;
    it->second.pinned = false;
    pinned_bytes_ -= it->second.bytes;
  }
}

const std::vector<Bytes>* ShareCache::find(uint64_t index, uint64_t term, uint8_t x) const {
  auto it = slots_.find(index);
  if (it == slots_.end() || it->second.term != term) return nullptr;
  auto s = it->second.by_x.find(x);
  return s == it->second.by_x.end() ? nullptr : &s->second;
}

const std::map<uint8_t, std::vector<Bytes>>* ShareCache::holders(uint64_t index, uint64_t term) const {
  auto it = slots_.find(index);
  if (it == slots_.end() || it->second.term != term) return nullptr;
  return &it->second.by_x;
}

void ShareCache::erase_through(uint64_t index) {
  while (!slots_.empty() && slots_.begin()->first <= index) erase_slot(slots_.begin());
}

void ShareCache::erase_from(uint64_t index) {
  while (!slots_.empty() && std::prev(slots_.end())->first >= index) erase_slot(std::prev(slots_.end()));
}

void ShareCache::clear() {
  slots_.clear();
  bytes_ = 0;
  pinned_bytes_ = 0;
}

void ShareCache::erase_slot(std::map<uint64_t, Slot>::iterator it) {
  bytes_ -= it->second.bytes;
  if (it->second.pinned) pinned_bytes_ -= it->second.bytes;
  slots_.erase(it);
}

}  // namespace etsecd::raft
