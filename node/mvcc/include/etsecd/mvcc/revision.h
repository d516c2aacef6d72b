#pragma once
// A store revision: `main` increases by one per write transaction that changed something, `sub` numbers the
// changes inside it (etcd's revision.main / revision.sub). Plaintext by design: ordering needs it.

#include <compare>
#include <cstdint>

namespace etsecd::mvcc {

struct Revision {
  int64_t main = 0;
  int64_t sub = 0;
  auto operator<=>(const Revision&) const = default;
};

// etcd starts a fresh store at revision 1, so the first write gets mod_revision 2; clients see this.
inline constexpr int64_t kInitialRevision = 1;
// Nothing compacted yet (etcd's compactMainRev starts at -1, so compacting at 0 is allowed once).
inline constexpr int64_t kNoCompaction = -1;

}  // namespace etsecd::mvcc
