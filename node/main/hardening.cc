#include "hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

namespace etsecd::node {

void harden_process() {
  // No core files: a core of the leader could contain values being split.
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  // Not dumpable: no core even if a limit is raised later, and no ptrace attach by same-uid processes.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace etsecd::node
