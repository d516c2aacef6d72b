"""Real etsecd-node processes on loopback with TLS, driven by real etcdctl.

A Cluster owns a temporary directory with certificates (scripts/gen-certs), one data directory and
log file per member, and the processes. Ports come from a per-test base so tests can run one after
another without colliding with a lingering socket.
"""
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = Path(os.environ.get("ETSECD_NODE_BIN", REPO / "build/release/node/etsecd-node"))
GEN_CERTS = REPO / "scripts/gen-certs"
ETCDCTL = os.environ.get("ETCDCTL_BIN", "etcdctl")


class EtcdctlError(Exception):
    def __init__(self, args, rc, out, err):
        super().__init__(f"etcdctl {' '.join(args)} failed ({rc}): {err.strip() or out.strip()}")
        self.rc, self.out, self.err = rc, out, err


class Member:
    def __init__(self, cluster, index):
        self.cluster, self.index = cluster, index
        self.name = f"m{index}"
        base = cluster.base_port + 10 * (index - 1)
        self.client_port, self.peer_port, self.metrics_port = base, base + 1, base + 2
        self.dir = cluster.dir / self.name
        self.data_dir = self.dir / "data"
        self.log_path = self.dir / "member.log"
        self.proc = None

    @property
    def client_url(self):
        return f"https://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self):
        return f"https://127.0.0.1:{self.peer_port}"

    def args(self, certs=None, initial_cluster=None, state="new", extra=()):
        certs = certs or self.cluster.certs
        ca = certs / "ca.pem"
        return [
            str(NODE_BIN),
            f"--name={self.name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={initial_cluster or self.cluster.initial_cluster()}",
            f"--initial-cluster-state={state}",
            f"--initial-cluster-token={self.cluster.token}",
            f"--cert-file={certs}/{self.name}-server.pem",
            f"--key-file={certs}/{self.name}-server-key.pem",
            f"--trusted-ca-file={ca}",
            "--client-cert-auth",
            f"--peer-cert-file={certs}/{self.name}-peer.pem",
            f"--peer-key-file={certs}/{self.name}-peer-key.pem",
            f"--peer-trusted-ca-file={ca}",
            f"--threshold={self.cluster.threshold}",
            f"--listen-metrics-urls=http://127.0.0.1:{self.metrics_port}",
            *extra,
        ]

    def start(self, **kw):
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} already running"
        self.dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETSECD_")}
        self.proc = subprocess.Popen(self.args(**kw), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        log.close()

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.proc.wait(timeout=20)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def http(self, path, timeout=1.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return None, ""

    def ready(self):
        return self.http("/readyz")[0] == 200

    def metric(self, name):
        _, body = self.http("/metrics")
        for line in body.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Cluster:
    def __init__(self, tmp_path, members=5, threshold=3, base_port=None, token="test-cluster"):
        self.dir = Path(tmp_path)
        self.threshold = threshold
        self.token = token
        self.base_port = base_port or Cluster._next_port()
        self.members = [Member(self, i) for i in range(1, members + 1)]
        self.certs = self.dir / "certs"
        gen_certs(self.certs, [m.name for m in self.members])

    _port = 40000 + (os.getpid() % 200) * 100

    @classmethod
    def _next_port(cls):
        """A base port whose next 100 ports are free now (other suites may share the machine)."""
        import socket
        for _ in range(200):
            # Below the kernel's ephemeral range (32768 and up by default), so an outgoing connection
            # never holds a port a member started later in a test needs.
            cls._port = 10000 + (cls._port + 100 - 10000) % 22000
            socks, ok = [], True
            try:
                for p in range(cls._port, cls._port + 100):
                    s = socket.socket()
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", p))
                    socks.append(s)
            except OSError:
                ok = False
            finally:
                for s in socks:
                    s.close()
            if ok:
                return cls._port
        raise RuntimeError("no free block of 100 ports on 127.0.0.1")

    def initial_cluster(self, members=None):
        return ",".join(f"{m.name}={m.peer_url}" for m in (members or self.members))

    def start(self, wait=True):
        try:
            for m in self.members:
                m.start()
            if wait:
                self.wait_ready()
        except BaseException:
            self.stop(signal.SIGKILL)  # never leave members behind a failed start
            raise
        return self

    def stop(self, sig=signal.SIGTERM):
        for m in self.members:
            m.kill(sig)

    def wait_ready(self, members=None, timeout=30):
        members = members or self.members
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(m.ready() for m in members):
                return
            for m in members:
                if m.proc is not None and m.proc.poll() is not None:
                    raise AssertionError(f"{m.name} exited with {m.proc.returncode}:\n{m.log_text()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError("cluster not ready: " + ", ".join(f"{m.name}={m.ready()}" for m in members))

    def leader(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.members:
                if m.running() and m.metric("etsecd_server_is_leader") == 1:
                    return m
            time.sleep(0.1)
        raise AssertionError("no leader")

    def etcdctl(self, *args, endpoints=None, input=None, timeout=30, check=True, json_out=False):
        eps = endpoints or [m.client_url for m in self.members if m.running()]
        cmd = [ETCDCTL, f"--endpoints={','.join(eps)}", f"--cacert={self.certs}/ca.pem",
               f"--cert={self.certs}/client.pem", f"--key={self.certs}/client-key.pem",
               "--command-timeout=10s", "--dial-timeout=3s"]
        if json_out:
            cmd.append("-w=json")
        cmd += list(args)
        env = dict(os.environ, ETCDCTL_API="3")
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise EtcdctlError(list(args), p.returncode, p.stdout, p.stderr)
        if json_out and p.returncode == 0:
            return json.loads(p.stdout)
        return p

    def get(self, key, **kw):
        """The value of key (None if absent), through etcdctl's JSON output."""
        out = self.etcdctl("get", key, json_out=True, **kw)
        kvs = out.get("kvs") or []
        if not kvs:
            return None
        import base64
        return base64.b64decode(kvs[0].get("value", "")).decode()


def gen_certs(directory, names):
    subprocess.run([str(GEN_CERTS), "--dir", str(directory), *names], check=True, capture_output=True)
