"""How a member with an empty data directory starts (docs/operations.md, "How a member starts"), with real
members, TLS and real etcdctl. Every member runs with the same --initial-cluster and
--initial-cluster-state=new, as the pods of a StatefulSet do:
- the initial members bootstrap at once (nobody has heard from them);
- a member whose --name is not in --initial-cluster joins once `member add --learner` named its peer URL;
- a member the cluster already heard from, started again on an empty data directory, refuses with exit
  status 3 and says what to do; after `member remove` and `member add --learner` it joins under a new id
  and is repaired."""
import base64
import shutil
import signal
import time

from harness import Cluster
from test_membership import add_learner, member_ids, promote_when_ready, remove_member

DATA_LOST_EXIT = 3


def put_values(c, prefix, count):
    values = {f"{prefix}/{i}": f"value-{prefix}-{i}-" + "x" * i for i in range(count)}
    for k, v in values.items():
        c.etcdctl("put", k, v)
    return values


def read_back(c, values, endpoints=None, serializable=False):
    for k, v in values.items():
        args = ["get", k] + (["--consistency=s"] if serializable else [])
        out = c.etcdctl(*args, endpoints=endpoints, json_out=True)
        assert base64.b64decode(out["kvs"][0]["value"]).decode() == v, k


def expect_refusal(m, member_id, timeout=30):
    assert m.proc.wait(timeout=timeout) == DATA_LOST_EXIT, m.log_text()[-3000:]
    log = m.log_text()
    assert "refusing to start" in log and f"etcdctl member remove {member_id:x}" in log, log[-3000:]
    assert f"etcdctl member add {m.name} --learner --peer-urls={m.peer_url}" in log, log[-3000:]
    # It wrote nothing: the directory still reads as empty on the next start.
    assert not (m.data_dir / "member.id").exists() and not (m.data_dir / "raft").exists()


def test_extra_member_joins_with_the_initial_members_flags(tmp_path):
    c = Cluster(tmp_path, members=4, threshold=2)
    first = c.members[:3]
    m4 = c.members[3]
    same_flags = c.initial_cluster(first)  # what every pod of the StatefulSet gets
    try:
        began = time.time()
        for m in first:
            m.start(initial_cluster=same_flags)
        c.wait_ready(first)
        bootstrap_seconds = time.time() - began
        for m in first:
            assert "no member ever heard from this one: bootstrapping" in m.log_text()
        values = put_values(c, "before", 10)

        # Not in --initial-cluster: it waits to be added instead of bootstrapping or failing.
        m4.start(initial_cluster=same_flags)
        time.sleep(2)
        assert m4.running(), m4.log_text()[-3000:]
        new_id = add_learner(c, m4)
        promote_when_ready(c, new_id, m4)
        c.wait_ready(c.members, timeout=60)
        assert (m4.data_dir / "join.state").exists()
        read_back(c, values, endpoints=[m4.client_url])

        # The joined member's disk is lost: the cluster heard from it, so it refuses too.
        m4.kill(signal.SIGKILL)
        shutil.rmtree(m4.data_dir)
        m4.start(initial_cluster=same_flags)
        expect_refusal(m4, new_id)
        remove_member(c, new_id)
        again = add_learner(c, m4)
        assert again != new_id
        m4.start(initial_cluster=same_flags)
        promote_when_ready(c, again, m4)
        c.wait_ready(c.members, timeout=60)
        read_back(c, values)
    finally:
        c.stop()
    print(f"fresh 3-member bootstrap until all Ready: {bootstrap_seconds:.2f} s")
    assert bootstrap_seconds < 15, bootstrap_seconds


def test_wiped_initial_member_refuses_until_removed_and_added_again(tmp_path):
    c = Cluster(tmp_path, members=3, threshold=2)
    try:
        c.start()
        values = put_values(c, "kept", 20)
        # The leader loses its data: with W = n = 3 nobody else can commit even the new leader's first
        # entry, and the removal must still go through (it once waited for that entry to commit).
        lost = c.leader()
        by_name, _ = member_ids(c)
        old_id = by_name[lost.name]["ID"]
        lost.kill(signal.SIGKILL)
        shutil.rmtree(lost.data_dir)

        # Same flags as before (--initial-cluster-state=new): it must not bootstrap again.
        lost.start()
        expect_refusal(lost, old_id)
        # Still refused on a second try (nothing was re-added), and the cluster did not change.
        lost.start()
        expect_refusal(lost, old_id)
        _, members = member_ids(c)
        assert len(members) == 3

        remove_member(c, old_id)
        new_id = add_learner(c, lost)
        assert new_id != old_id
        lost.start()
        promote_when_ready(c, new_id, lost)
        c.wait_ready(timeout=60)
        assert "this initial member was removed and added again: joining as a learner" in lost.log_text()
        by_name, members = member_ids(c)
        assert by_name[lost.name]["ID"] == new_id and not any(m.get("isLearner") for m in members)
        read_back(c, values)

        # It was repaired: with one other member down, its own share and the third's (k=2) rebuild the
        # values written before.
        next(m for m in c.members if m is not lost).kill(signal.SIGKILL)
        read_back(c, values, endpoints=[lost.client_url], serializable=True)
    finally:
        c.stop()
