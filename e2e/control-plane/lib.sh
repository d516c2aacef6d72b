# Shared settings for the e2e control-plane scripts (sourced, not run).
# Every value can be overridden from the environment; docs/e2e.md lists them.

E2E_CP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(cd "$E2E_CP_DIR/.." && pwd)"
E2E_TOOLS_DIR="$E2E_DIR/tools"

# Pinned versions. The Go modules under e2e/tools/ pin the exact source (go.mod + go.sum); these
# strings only name the cache folders and stamp the binaries' version info, and `build` checks that
# they agree with the go.mod files.
E2E_KUBERNETES_VERSION="v1.35.4"
E2E_KWOK_VERSION="v0.8.0"
E2E_HELM_VERSION="v3.22.0"
E2E_ETCD_VERSION="v3.5.35"

E2E_CACHE="${ETSECD_CACHE:-$HOME/.cache/etsecd}/e2e"

# Build parallelism: the machine has 2 cores shared with other work.
E2E_BUILD_JOBS="${ETSECD_E2E_BUILD_JOBS:-2}"

# Ports, all bound to 127.0.0.1. Below the Linux ephemeral range (32768+) so an outgoing connection
# never holds one of them; move the whole block with ETSECD_E2E_PORT_BASE.
E2E_PORT_BASE="${ETSECD_E2E_PORT_BASE:-17400}"
E2E_ETCD_CLIENT_PORT="${ETSECD_E2E_ETCD_CLIENT_PORT:-$((E2E_PORT_BASE + 1))}"
E2E_ETCD_PEER_PORT="${ETSECD_E2E_ETCD_PEER_PORT:-$((E2E_PORT_BASE + 2))}"
E2E_APISERVER_PORT="${ETSECD_E2E_APISERVER_PORT:-$((E2E_PORT_BASE + 43))}"
E2E_KCM_PORT="${ETSECD_E2E_KCM_PORT:-$((E2E_PORT_BASE + 57))}"
E2E_SCHEDULER_PORT="${ETSECD_E2E_SCHEDULER_PORT:-$((E2E_PORT_BASE + 59))}"
E2E_KWOK_PORT="${ETSECD_E2E_KWOK_PORT:-$((E2E_PORT_BASE + 10))}"

# Fake nodes: NODES_PER_ZONE kwok nodes in each zone, each with its own kubernetes.io/hostname.
E2E_ZONES="${ETSECD_E2E_ZONES:-zone-a zone-b zone-c}"
E2E_NODES_PER_ZONE="${ETSECD_E2E_NODES_PER_ZONE:-2}"
# Pre-made local PersistentVolumes per node (no provisioner runs), and their size.
E2E_PVS_PER_NODE="${ETSECD_E2E_PVS_PER_NODE:-3}"
E2E_PV_SIZE="${ETSECD_E2E_PV_SIZE:-10Gi}"

# Pod and service addresses stay in 127.0.0.0/8 so nothing can ever be sent off the machine.
# kwok hands pod IPs from E2E_POD_CIDR; the e2e agent uses its own part of 127.0.0.0/8.
E2E_POD_CIDR="${ETSECD_E2E_POD_CIDR:-127.1.0.0/16}"
E2E_AGENT_POD_CIDR="${ETSECD_E2E_AGENT_POD_CIDR:-127.2.0.0/16}"
# Which local executables the e2e agent runs for which images (or container commands), as
# space-separated IMAGE-REPO=PATH pairs, e.g. "etsecd/etsecd-node=$PWD/build/release/node/etsecd-node".
E2E_BINARIES="${ETSECD_E2E_BINARIES:-}"
E2E_SERVICE_CIDR="${ETSECD_E2E_SERVICE_CIDR:-127.96.0.0/16}"

e2e_log() { echo "e2e: $*" >&2; }
e2e_die() {
  echo "e2e: error: $*" >&2
  exit 1
}

# Component binary folders (built by `build`).
e2e_bin_dir() { echo "$E2E_CACHE/$1-$2/bin"; }
E2E_KUBERNETES_BIN="$(e2e_bin_dir kubernetes "$E2E_KUBERNETES_VERSION")"
E2E_KWOK_BIN="$(e2e_bin_dir kwok "$E2E_KWOK_VERSION")"
E2E_HELM_BIN="$(e2e_bin_dir helm "$E2E_HELM_VERSION")"
E2E_ETCD_BIN="$(e2e_bin_dir etcd "$E2E_ETCD_VERSION")"
