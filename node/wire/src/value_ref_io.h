#pragma once
// A (key, mod_revision) reference as the share codecs write it: the key's bytes, then the revision.

#include "byte_io.h"
#include "etsecd/wire/share_fetch.h"

namespace etsecd::wire::detail {

inline void put_ref(Writer& w, const ValueRef& ref) {
  w.bytes(ref.key);
  w.varint(static_cast<uint64_t>(ref.mod_revision));
}

inline bool get_ref(Reader& r, ValueRef& ref) { return r.bytes(ref.key) && get_i64(r, ref.mod_revision); }

}  // namespace etsecd::wire::detail
