"""Membership changes with real members, TLS and real etcdctl, under a stream of writes: grow 3 -> 5
(member add --learner, start with --initial-cluster-state=existing, promote once caught up), move the
leader, shrink 5 -> 3 (member remove: the removed member exits 0 and wipes its shares). Every acknowledged
write reads back with its value."""
import base64
import shutil
import signal
import time

import pytest

from harness import Cluster, EtcdctlError
from test_faults import Writer


def member_ids(c):
    out = c.etcdctl("member", "list", json_out=True)
    return {m.get("name", ""): m for m in out["members"]}, out["members"]


def leader_id(c, timeout=10):
    """The leader every running member names (they may briefly disagree right after a change)."""
    deadline = time.time() + timeout
    while True:
        out = c.etcdctl("endpoint", "status", json_out=True)
        leaders = {s["Status"]["leader"] for s in out}
        if len(leaders) == 1 and 0 not in leaders:
            return leaders.pop()
        assert time.time() < deadline, out
        time.sleep(0.2)


def add_learner(c, m):
    out = c.etcdctl("member", "add", m.name, "--learner", f"--peer-urls={m.peer_url}", json_out=True)
    assert out["member"].get("isLearner") is True, out
    return out["member"]["ID"]


def remove_member(c, member_id, endpoints=None):
    """etcdctl member remove, after a leader is there: the member removed may have been the leader, killed
    just before, and followers forward to it until they elect another."""
    c.leader()
    for attempt in range(20):
        p = c.etcdctl("member", "remove", f"{member_id:x}", check=False, endpoints=endpoints)
        if p.returncode == 0 or (attempt > 0 and "member not found" in p.stderr):
            return  # (not found on a retry: the earlier attempt committed but its answer was lost)
        assert "member not found" not in p.stderr, p.stderr
        time.sleep(0.5)
    raise AssertionError(f"member remove kept failing: {p.stderr}")


def promote_when_ready(c, member_id, member, timeout=90):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        assert member.running(), f"{member.name} exited:\n{member.log_text()[-3000:]}"
        p = c.etcdctl("member", "promote", f"{member_id:x}", check=False)
        if p.returncode == 0:
            return
        last = p.stderr.strip()
        assert "in sync with leader" in last or "timed out" in last or "leader changed" in last, last
        time.sleep(0.5)
    raise AssertionError(f"learner {member_id:x} never became promotable: {last}")


@pytest.fixture
def small_cluster(tmp_path):
    c = Cluster(tmp_path, members=5, threshold=2)
    first = c.members[:3]
    try:
        for m in first:
            m.start(initial_cluster=c.initial_cluster(first))
        c.wait_ready(first)
    except BaseException:
        c.stop()
        raise
    yield c
    c.stop()


def test_grow_move_leader_shrink_under_writes(small_cluster):
    c = small_cluster
    m1, m2, m3, m4, m5 = c.members
    writer = Writer(c, "membership", limit=100000)
    writer.start()
    try:
        # etsecd never adds a voter directly: its shares do not exist yet.
        p = c.etcdctl("member", "add", m4.name, f"--peer-urls={m4.peer_url}", check=False)
        assert p.returncode != 0 and "only as learners" in p.stderr, p.stderr
        p = c.etcdctl("member", "promote", "123456", check=False)
        assert p.returncode != 0 and "member not found" in p.stderr, p.stderr

        grown = [m1, m2, m3]
        for m in (m4, m5):
            new_id = add_learner(c, m)
            p = c.etcdctl("member", "add", "again", "--learner", f"--peer-urls={m.peer_url}", check=False)
            assert p.returncode != 0 and "Peer URLs already exists" in p.stderr, p.stderr
            # Not started: it holds no share of anything, so it may not become a voter.
            p = c.etcdctl("member", "promote", f"{new_id:x}", check=False)
            assert p.returncode != 0, "promoted a learner that never started"
            assert "can only promote a learner member which is in sync with leader" in p.stderr, p.stderr
            grown.append(m)
            m.start(initial_cluster=c.initial_cluster(grown), state="existing")
            promote_when_ready(c, new_id, m)
            by_name, members = member_ids(c)
            assert not any(x.get("isLearner") for x in members), members
            assert len(members) == len(grown)
        c.wait_ready(grown, timeout=60)

        # A joined member restarts from what it kept (join.state), without asking to join again.
        assert (m5.data_dir / "join.state").exists()
        m5.kill(signal.SIGKILL)
        m5.start(initial_cluster=c.initial_cluster(grown), state="existing")
        c.wait_ready(grown, timeout=60)
        assert m5.log_text().count("joined the cluster as a learner") == 1

        # Peer URL updates go through the log; a URL another member has, or an unknown id, is refused.
        by_name, _ = member_ids(c)
        m5_id = by_name["m5"]["ID"]
        c.etcdctl("member", "update", f"{m5_id:x}", f"--peer-urls={m5.peer_url}")
        p = c.etcdctl("member", "update", f"{m5_id:x}", f"--peer-urls={m1.peer_url}", check=False)
        assert p.returncode != 0 and "Peer URLs already exists" in p.stderr, p.stderr
        p = c.etcdctl("member", "update", "123456", f"--peer-urls={m5.peer_url}", check=False)
        assert p.returncode != 0 and "member not found" in p.stderr, p.stderr
        assert by_name["m5"]["peerURLs"] == [m5.peer_url] and not by_name["m5"].get("isLearner")

        # A learner or an unknown member cannot lead; a voter can.
        p = c.etcdctl("move-leader", "123456", check=False)
        assert p.returncode != 0 and "bad leader transferee" in p.stderr, p.stderr
        by_name, _ = member_ids(c)
        old = leader_id(c)
        target = next(x["ID"] for name, x in by_name.items() if x["ID"] != old)
        c.etcdctl("move-leader", f"{target:x}")
        assert leader_id(c) == target

        # Shrink 5 -> 3: the removed members stop on their own and wipe their shares.
        for m in (m5, m4):
            by_name, _ = member_ids(c)
            mid = by_name[m.name]["ID"]
            c.etcdctl("member", "remove", f"{mid:x}")
            m.proc.wait(timeout=30)
            assert m.proc.returncode == 0, m.log_text()[-2000:]
            assert "removed from the cluster" in m.log_text()
            assert not (m.data_dir / "raft").exists() and not (m.data_dir / "kv").exists()
            assert (m.data_dir / "removed").exists()
        # A removed member restarted on its old directory refuses clearly instead of starting empty.
        m4.start(initial_cluster=c.initial_cluster(), state="existing")
        assert m4.proc.wait(timeout=30) != 0
        assert "was removed from the cluster" in m4.log_text()
        _, members = member_ids(c)
        assert sorted(x["name"] for x in members) == ["m1", "m2", "m3"]
        time.sleep(1)
    finally:
        writer.finish()
    writer.check_acked()


def test_replace_a_member_whose_data_directory_was_lost(tmp_path):
    """The operator's replacement path: a member's disk is gone, so remove it, add a learner on the same
    peer URL (a new share index, so a new id), start it empty with --initial-cluster-state=existing and
    promote it once it caught up; no acknowledged write is lost."""
    c = Cluster(tmp_path, members=5, threshold=2).start()
    writer = Writer(c, "replace", limit=100000)
    try:
        writer.start()
        time.sleep(1)
        lost = c.members[4]
        by_name, _ = member_ids(c)
        old_id = by_name[lost.name]["ID"]
        lost.kill(signal.SIGKILL)
        shutil.rmtree(lost.data_dir)
        remove_member(c, old_id)
        new_id = add_learner(c, lost)
        assert new_id != old_id
        lost.start(state="existing")
        promote_when_ready(c, new_id, lost)
        c.wait_ready(timeout=60)
        by_name, members = member_ids(c)
        assert by_name[lost.name]["ID"] == new_id and len(members) == 5
        assert not any(m.get("isLearner") for m in members)
        time.sleep(1)
    finally:
        writer.finish()
        try:
            writer.check_acked()
            # The replacement holds a valid share of values written before it joined: with three members
            # down, its own share and m4's (k=2) rebuild them on a serializable read.
            for m in c.members[:3]:
                m.kill(signal.SIGKILL)
            for key, value in list(writer.acked.items())[:20]:
                out = c.etcdctl("get", key, "--consistency=s", endpoints=[lost.client_url], json_out=True)
                assert base64.b64decode(out["kvs"][0]["value"]).decode() == value, key
        finally:
            c.stop()
