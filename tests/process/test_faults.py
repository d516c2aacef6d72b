"""Faults with a stream of writes: kill -9 of the leader (and restart), a paused leader that comes
back after others elected a new one. Every acknowledged write must read back with its value."""
import random
import signal
import threading
import time

from harness import EtcdctlError


class Writer(threading.Thread):
    """Writes unique keys through all endpoints, recording what was acknowledged."""

    def __init__(self, cluster, prefix, limit=400):
        super().__init__(daemon=True)
        self.c, self.prefix, self.limit = cluster, prefix, limit
        self.acked = {}
        self.failed = 0
        self.stop = threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set() and i < self.limit:
            key, value = f"{self.prefix}/{i:05d}", f"v-{i}-{random.getrandbits(64):016x}"
            try:
                self.c.etcdctl("put", key, value, timeout=20)
                self.acked[key] = value
            except (EtcdctlError, Exception):
                self.failed += 1
            i += 1

    def finish(self):
        self.stop.set()
        self.join(timeout=60)

    def check_acked(self, at_least=21):
        """Enough writes went through, and every acknowledged one reads back with its value."""
        assert len(self.acked) >= at_least, f"only {len(self.acked)} acknowledged ({self.failed} failed)"
        check_all_acked(self.c, self.acked)


def check_all_acked(c, acked):
    got = c.etcdctl("get", "", "--prefix", json_out=True, timeout=60)
    import base64
    stored = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in got.get("kvs", [])}
    missing = [k for k, v in acked.items() if stored.get(k) != v]
    assert not missing, f"{len(missing)} acknowledged writes lost or wrong, e.g. {missing[:3]}"


def test_kill9_leader_during_writes_and_restart(cluster):
    c = cluster
    w = Writer(c, "kill")
    w.start()
    time.sleep(1.5)
    leader = c.leader()
    leader.kill(signal.SIGKILL)
    new_leader = c.leader()
    assert new_leader is not leader
    time.sleep(1.5)
    leader.start()
    c.wait_ready()
    time.sleep(1.0)
    w.stop.set()
    w.join(timeout=120)
    assert len(w.acked) > 20, f"too few writes went through ({len(w.acked)}, {w.failed} failed)"
    check_all_acked(c, w.acked)
    # The restarted member serves reads of values written while it was down.
    for key in list(w.acked)[-5:]:
        assert c.get(key, endpoints=[leader.client_url]) == w.acked[key]


def test_paused_leader_is_replaced_and_rejoins(cluster):
    c = cluster
    w = Writer(c, "pause")
    w.start()
    time.sleep(1.0)
    old = c.leader()
    old.kill(signal.SIGSTOP)
    try:
        deadline = time.time() + 15
        new = None
        while time.time() < deadline:
            for m in c.members:
                if m is not old and m.metric("etsecd_server_is_leader") == 1:
                    new = m
            if new:
                break
            time.sleep(0.1)
        assert new is not None, "no new leader while the old one was paused"
        time.sleep(1.5)
    finally:
        old.kill(signal.SIGCONT)
    c.wait_ready()
    w.stop.set()
    w.join(timeout=120)
    check_all_acked(c, w.acked)
    assert old.metric("etsecd_server_has_leader") == 1  # the old leader rejoined and follows someone
    assert sum(1 for m in c.members if m.metric("etsecd_server_is_leader") == 1) == 1
    # Operators see the change: the first leader and its successor, counted and logged.
    assert (new.metric('etsecd_events_total{kind="leader_changes"}') or 0) >= 2
    assert '"msg":"leader changed"' in new.log_text()


def test_full_cluster_restart_keeps_data(cluster):
    c = cluster
    for i in range(20):
        c.etcdctl("put", f"restart/{i}", f"value-{i}")
    for m in c.members:
        m.kill(signal.SIGKILL)
    c.start()
    for i in range(20):
        assert c.get(f"restart/{i}") == f"value-{i}"
