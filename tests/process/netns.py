"""A cluster whose members each live in their own network namespace, so a test can cut real links.

Layout (all namespaces created by the test and deleted afterwards; nothing touches the host's network):

    hub netns: bridge br0 10.77.0.254/24  <-- the test process enters it to talk to members
       |-- veth -- member netns m1: eth0 10.77.0.1
       |-- veth -- member netns m2: eth0 10.77.0.2   ...

partition(member) installs nftables rules in that member's namespace that drop every packet on its
eth0: a black hole, as when a cable is pulled (sockets see silence, not errors). heal(member) removes
them. Needs root, iproute2 and nftables (CI has them; tests skip with the reason otherwise).
"""
import contextlib
import ctypes
import os
import shutil
import subprocess
import urllib.request

from harness import Cluster, Member

SUBNET = "10.77.0"
CLONE_NEWNET = 0x40000000


def available():
    """None if namespaces can be used here, else why not."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"needs '{tool}' (iproute2 / nftables)"
    return None


def _run(*args):
    subprocess.run(list(args), check=True, capture_output=True, text=True)


def _setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


class NetnsMember(Member):
    def __init__(self, cluster, index):
        super().__init__(cluster, index)
        self.netns = f"{cluster.tag}m{index}"
        self.ip = f"{SUBNET}.{index}"
        self.client_port, self.peer_port, self.metrics_port = 2379, 2380, 2381
        self.partitioned = False

    @property
    def client_url(self):
        return f"https://{self.ip}:{self.client_port}"

    @property
    def peer_url(self):
        return f"https://{self.ip}:{self.peer_port}"

    def args(self, **kw):
        out = super().args(**kw)
        out = [a.replace("http://127.0.0.1:", f"http://{self.ip}:") for a in out]
        return ["ip", "netns", "exec", self.netns, *out]

    def http(self, path, timeout=1.0):
        try:
            with urllib.request.urlopen(f"http://{self.ip}:{self.metrics_port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return None, ""

    def partition(self):
        """Drops every packet to and from this member (clients and peers alike)."""
        ns = ["ip", "netns", "exec", self.netns, "nft"]
        _run(*ns, "add", "table", "inet", "etspart")
        for chain, hook, match in (("in", "input", "iifname"), ("out", "output", "oifname")):
            _run(*ns, "add", "chain", "inet", "etspart", chain,
                 f"{{ type filter hook {hook} priority 0; policy accept; }}")
            _run(*ns, "add", "rule", "inet", "etspart", chain, match, "eth0", "drop")
        self.partitioned = True

    def heal(self):
        if self.partitioned:
            _run("ip", "netns", "exec", self.netns, "nft", "delete", "table", "inet", "etspart")
            self.partitioned = False


class NetnsCluster(Cluster):
    """Use as a context manager: creates the namespaces, enters the hub, and undoes both on exit."""

    def __init__(self, tmp_path, members=5, threshold=3, token="netns-cluster"):
        self.tag = f"ets{os.getpid() % 100000}"
        self.hub = f"{self.tag}hub"
        self._orig_ns = None
        # Cluster.__init__ makes the members (and their certificates, which must name their IPs).
        super().__init__(tmp_path, members=0, threshold=threshold, token=token)
        self.members = [NetnsMember(self, i) for i in range(1, members + 1)]
        from harness import gen_certs
        gen_certs(self.certs, [f"{m.name}={m.ip}" for m in self.members])

    def __enter__(self):
        try:
            _run("ip", "netns", "add", self.hub)
            _run("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
            _run("ip", "-n", self.hub, "addr", "add", f"{SUBNET}.254/24", "dev", "br0")
            _run("ip", "-n", self.hub, "link", "set", "br0", "up")
            _run("ip", "-n", self.hub, "link", "set", "lo", "up")
            for m in self.members:
                self._add_member_ns(m)
            self._orig_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            _setns(f"/run/netns/{self.hub}")
        except BaseException:
            self._teardown()
            raise
        return self

    def _add_member_ns(self, m):
        _run("ip", "netns", "add", m.netns)
        _run("ip", "link", "add", "eth0", "netns", m.netns, "type", "veth", "peer", "name", f"v{m.index}",
             "netns", self.hub)
        _run("ip", "-n", self.hub, "link", "set", f"v{m.index}", "master", "br0")
        _run("ip", "-n", self.hub, "link", "set", f"v{m.index}", "up")
        _run("ip", "-n", m.netns, "addr", "add", f"{m.ip}/24", "dev", "eth0")
        _run("ip", "-n", m.netns, "link", "set", "eth0", "up")
        _run("ip", "-n", m.netns, "link", "set", "lo", "up")

    def __exit__(self, *exc):
        self._teardown()
        return False

    def _teardown(self):
        with contextlib.suppress(Exception):
            self.stop(__import__("signal").SIGKILL)
        if self._orig_ns is not None:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.setns(self._orig_ns, CLONE_NEWNET)
            os.close(self._orig_ns)
            self._orig_ns = None
        for m in self.members:
            subprocess.run(["ip", "netns", "del", m.netns], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.hub], capture_output=True)
