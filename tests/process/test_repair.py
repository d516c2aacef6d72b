"""Log compaction and share repair with real members, TLS and real etcdctl: a member that fell behind
the leader's compacted log, and a learner whose data directory was wiped, get their shares of every
record through a repair stream (k holders' shares rebuilt at the new member's share index), and a learner
killed with SIGKILL in the middle of its repair comes back and finishes. Every acknowledged write reads
back with its value."""
import base64
import json
import shutil
import signal
import threading
import time

import pytest

from harness import Cluster
from test_faults import Writer, check_all_acked
from test_membership import add_learner, member_ids, promote_when_ready, remove_member

SNAPSHOT_COUNT = ("--snapshot-count=100",)
_clusters = []


@pytest.fixture(autouse=True)
def stop_clusters():
    """Whatever a test leaves running (an assertion failed half way) is stopped here."""
    yield
    while _clusters:
        _clusters.pop().stop(signal.SIGKILL)


def new_cluster(tmp_path, **kw):
    c = Cluster(tmp_path, **kw)
    _clusters.append(c)
    return c


def events(m, kind):
    """etsecd_events_total{kind=...} of member m (0 when not reported yet)."""
    _, body = m.http("/metrics")
    needle = f'etsecd_events_total{{kind="{kind}"}} '
    for line in body.splitlines():
        if line.startswith(needle):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def start_all(c, members=None, extra=SNAPSHOT_COUNT):
    members = members or c.members
    for m in members:
        m.start(initial_cluster=c.initial_cluster(members), extra=extra)
    c.wait_ready(members)


def bulk_put(c, prefix, count, value_bytes=16, threads=6, endpoints=None):
    """count distinct keys through several etcdctl processes at once; returns {key: value}."""
    written, lock = {}, threading.Lock()

    def run(offset):
        for i in range(offset, count, threads):
            key = f"{prefix}/{i:06d}"
            value = (f"{i:06d}-" * (value_bytes // 7 + 1))[:value_bytes]
            c.etcdctl("put", key, value, timeout=30, endpoints=endpoints)
            with lock:
                written[key] = value

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(written) == count, f"only {len(written)} of {count} bulk writes acknowledged"
    return written


def wait_for(what, predicate, timeout=120, member=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if member is not None:
            assert member.running(), f"{member.name} exited:\n{member.log_text()[-3000:]}"
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def log_events(m, msg):
    """Member m's JSON log lines whose message is msg."""
    found = []
    for line in m.log_text().splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("msg") == msg:
            found.append(e)
    return found


def read_one(c, m, key):
    out = c.etcdctl("get", key, "--consistency=s", endpoints=[m.client_url], json_out=True)
    return base64.b64decode(out["kvs"][0]["value"]).decode() if out.get("kvs") else None


def test_member_behind_the_compacted_log_is_repaired(tmp_path):
    c = new_cluster(tmp_path, members=5, threshold=2)
    start_all(c)
    writer = Writer(c, "stream", limit=100000)
    try:
        writer.start()
        lagging = c.members[4]
        lagging.kill(signal.SIGTERM)
        written = bulk_put(c, "behind", 600, endpoints=[m.client_url for m in c.members[:4]])
        leader = c.leader()
        wait_for("the leader to compact its log", lambda: events(leader, "log_compactions") >= 2)
        started = time.time()
        lagging.start(initial_cluster=c.initial_cluster(), extra=SNAPSHOT_COUNT)
        wait_for("the repair to install", lambda: events(lagging, "repair_installs_finished") >= 1,
                 member=lagging)
        print(f"repair of a member behind the compacted log: {time.time() - started:.1f} s")
        assert events(leader, "repair_sessions_ok") >= 1
        assert "share repair installed" in lagging.log_text()
        c.wait_ready(timeout=60)
        for key in list(written)[:: len(written) // 20]:
            assert read_one(c, lagging, key) == written[key], key
    finally:
        writer.finish()
    try:
        writer.check_acked()
        check_all_acked(c, written)
        # Only the repaired member and one other are up (k=2): every value needs the repaired share.
        for m in c.members[:3]:
            m.kill(signal.SIGKILL)
        for key in list(written)[:: len(written) // 10]:
            assert read_one(c, lagging, key) == written[key], key
    finally:
        c.stop()


def test_wiped_learner_is_repaired_and_a_kill_mid_repair_resumes(tmp_path):
    """Remove a member, wipe it, add it back as a learner (new share index): it gets its shares through
    a repair stream (the leader's log is compacted). Killed with SIGKILL after its first chunk, it
    restarts and the repair completes; promoted, it serves reads with its own share."""
    c = new_cluster(tmp_path, members=5, threshold=2)
    start_all(c)
    # Enough data for several chunks (4 MiB each): 2000 x 10 KiB.
    data = bulk_put(c, "big", 2000, value_bytes=10 * 1024)
    leader = c.leader()
    wait_for("the leader to compact its log", lambda: events(leader, "log_compactions") >= 2)
    writer = Writer(c, "learner", limit=100000)
    try:
        writer.start()
        lost = c.members[4]
        by_name, _ = member_ids(c)
        old_id = by_name[lost.name]["ID"]
        lost.kill(signal.SIGKILL)
        shutil.rmtree(lost.data_dir)
        remove_member(c, old_id, endpoints=[m.client_url for m in c.members[:4]])
        new_id = add_learner(c, lost)
        assert new_id != old_id
        started = time.time()
        lost.start(state="existing", extra=SNAPSHOT_COUNT)
        wait_for("the first repair chunk", lambda: "share repair chunk installed" in lost.log_text(),
                 member=lost)
        lost.kill(signal.SIGKILL)
        assert "share repair installed" not in lost.log_text(), "the repair finished before the kill"
        lost.start(state="existing", extra=SNAPSHOT_COUNT)
        wait_for("the repair to install after the restart",
                 lambda: "share repair installed" in lost.log_text(), timeout=180, member=lost)
        elapsed = time.time() - started
        mib = sum(len(v) for v in data.values()) / (1 << 20)
        print(f"repair of a wiped learner ({mib:.1f} MiB of values, one kill -9): {elapsed:.1f} s")
        text = lost.log_text()
        assert "a share repair was interrupted" in text
        assert "share repair resumes after the last installed record" in text
        # The leader's retry continued the interrupted snapshot after the learner's cursor: the session
        # that finished sent fewer chunks than a whole install (2000 x 10 KiB in chunks of 4 MiB: at
        # least 5) and skipped at least the first chunk's records (about 400 of the "big/" keys, which
        # sort before the write stream's): at most 2000 + the stream's writes - 350 records.
        resumed = [e for m in c.members[:4] for e in log_events(m, "share repair finished")
                   if e.get("resumed")]
        assert resumed, "no repair session resumed the interrupted install"
        assert any("share repair resumes the interrupted snapshot" in m.log_text() for m in c.members[:4])
        last = resumed[-1]
        print(f"resumed session after kill -9: {last['chunks']} chunks, {last['records']} records")
        stream_writes = len(writer.acked) + writer.failed
        assert last["chunks"] < 5 and last["records"] <= 2000 + stream_writes - 350, (last, stream_writes)
        promote_when_ready(c, new_id, lost)
        c.wait_ready(timeout=60)
        _, members = member_ids(c)
        assert not any(m.get("isLearner") for m in members) and len(members) == 5
    finally:
        writer.finish()
    try:
        writer.check_acked()
        for m in c.members[:3]:
            m.kill(signal.SIGKILL)
        for key in list(data)[:: len(data) // 10]:
            assert read_one(c, c.members[4], key) == data[key], key
    finally:
        c.stop()


def test_grow_3_to_5_to_7_and_shrink_to_5_with_compaction(tmp_path):
    """Learners that join after the log was compacted get their shares by repair; the cluster grows
    3 -> 5 -> 7 voters and shrinks 7 -> 5 under a write stream without losing an acknowledged write. W
    follows the voter count (no --commit-quorum): 3 members W=3, 5 -> 4, 7 -> 5."""
    c = new_cluster(tmp_path, members=7, threshold=2)
    first = c.members[:3]
    start_all(c, first)
    writer = Writer(c, "grow", limit=100000)
    try:
        bulk_put(c, "before", 300, endpoints=[m.client_url for m in first])
        writer.start()
        grown = list(first)
        for m in c.members[3:]:
            new_id = add_learner(c, m)
            grown.append(m)
            m.start(initial_cluster=c.initial_cluster(grown), state="existing", extra=SNAPSHOT_COUNT)
            promote_when_ready(c, new_id, m)
            assert "share repair installed" in m.log_text(), f"{m.name} caught up without a repair"
            if len(grown) == 5:
                _, members = member_ids(c)
                assert len(members) == 5 and not any(x.get("isLearner") for x in members)
        c.wait_ready(grown, timeout=60)
        _, members = member_ids(c)
        assert len(members) == 7 and not any(x.get("isLearner") for x in members)
        for m in (c.members[6], c.members[5]):
            by_name, _ = member_ids(c)
            c.etcdctl("member", "remove", f"{by_name[m.name]['ID']:x}")
            m.proc.wait(timeout=30)
            assert m.proc.returncode == 0, m.log_text()[-2000:]
        _, members = member_ids(c)
        assert sorted(x["name"] for x in members) == ["m1", "m2", "m3", "m4", "m5"]
        time.sleep(1)
    finally:
        writer.finish()
    try:
        writer.check_acked()
    finally:
        c.stop()


class TimedWriter(Writer):
    """A Writer that also records when each write started and how long it took."""

    def __init__(self, cluster, prefix):
        super().__init__(cluster, prefix, limit=100000)
        self.timings = []  # (start, seconds, acknowledged)

    def run(self):
        i = 0
        while not self.stop.is_set():
            key, value = f"{self.prefix}/{i:05d}", f"v-{i}"
            start = time.time()
            try:
                self.c.etcdctl("put", key, value, timeout=20)
                self.acked[key] = value
                ok = True
            except Exception:
                self.failed += 1
                ok = False
            self.timings.append((start, time.time() - start, ok))
            i += 1


def test_sigterm_on_the_leader_hands_leadership_over(tmp_path):
    """SIGTERM on the leader under a write stream: before it stops it hands leadership to the most
    caught-up voter (TimeoutNow, as MoveLeader), so a new leader is there well within an election
    timeout. The members run with a 3 s election timeout: a leader that just vanished would leave the
    others at least that long without one. No acknowledged write is lost."""
    election_timeout = 3.0
    c = new_cluster(tmp_path, members=5, threshold=2)
    start_all(c, extra=(f"--election-timeout={int(election_timeout * 1000)}",))
    writer = TimedWriter(c, "handoff")
    try:
        writer.start()
        wait_for("writes to go through", lambda: len(writer.acked) >= 10, timeout=60)
        old = c.leader()
        others = [m for m in c.members if m is not old]
        stopped_at = time.time()
        old.proc.send_signal(signal.SIGTERM)  # (Member.kill would wait for the exit)
        new = None
        while new is None and time.time() - stopped_at < 2 * election_timeout:
            for m in others:
                try:
                    if m.metric("etsecd_server_is_leader") == 1:
                        new = m
                except Exception:
                    pass
            time.sleep(0.01)
        gap = time.time() - stopped_at
        assert new is not None, "no new leader"
        old.proc.wait(timeout=30)
        assert old.proc.returncode == 0, old.log_text()[-2000:]
        handed = log_events(old, "stopping: leadership handed over")
        assert handed, old.log_text()[-3000:]
        time.sleep(1.0)  # writes after the hand-over
    finally:
        writer.finish()
    around = [t for t in writer.timings if stopped_at - 1 <= t[0] <= stopped_at + election_timeout]
    worst = max((t[1] for t in around), default=0.0)
    failed = sum(1 for t in around if not t[2])
    print(f"SIGTERM on the leader: new leader seen after {gap * 1000:.0f} ms (hand-over took "
          f"{handed[0]['ms']} ms by the old leader's clock); writes around it: {len(around)}, "
          f"{failed} failed, slowest {worst * 1000:.0f} ms")
    assert gap < election_timeout / 2, f"new leader only after {gap:.2f} s"
    assert worst < election_timeout / 2, f"a write around the stop took {worst:.2f} s"
    writer.check_acked()
    c.stop()
