#include "etsecd/repair/interrupted_install.h"

namespace etsecd::repair {

Result<bool> finish_interrupted_install(mvcc::Store& store, uint64_t raft_snapshot_index) {
  const mvcc::InstallState st = store.install_state();
  if (!st.active || raft_snapshot_index == 0 || st.target.applied_index != raft_snapshot_index) return false;
  if (Status s = store.finish_install(); !s) return s.error();
  return true;
}

}  // namespace etsecd::repair
