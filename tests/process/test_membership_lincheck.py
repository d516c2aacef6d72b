"""Linearizability across membership changes and a kill -9: concurrent put/get/cas on a small key set
(tools/kvload, the official etcd Go client) while a learner is added, started, promoted and removed and a
member is killed with SIGKILL and restarted; tools/lincheck (porcupine) checks the recorded history."""
import signal
import subprocess
import time

import gotools
from harness import Cluster
from test_membership import add_learner, promote_when_ready


def test_history_is_linearizable_across_membership_changes_and_kill9(tmp_path):
    kvload = gotools.tool("kvload")
    lincheck = gotools.tool("lincheck")
    c = Cluster(tmp_path / "cluster", members=4, threshold=2)
    m1, m2, m3, m4 = c.members
    first = [m1, m2, m3]
    history = tmp_path / "history.jsonl"
    load = None
    try:
        for m in first:
            m.start(initial_cluster=c.initial_cluster(first))
        c.wait_ready(first)
        load = subprocess.Popen(
            [str(kvload), "-endpoints=" + ",".join(m.client_url for m in first), f"-cacert={c.certs}/ca.pem",
             f"-cert={c.certs}/client.pem", f"-key={c.certs}/client-key.pem", "-op=mixed", "-clients=4",
             "-keys=4", "-value-size=16", "-duration=25s", "-timeout=2s", f"-history={history}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(2)
        new_id = add_learner(c, m4)
        m4.start(initial_cluster=c.initial_cluster(c.members), state="existing")
        promote_when_ready(c, new_id, m4)
        victim = m2 if c.leader() is not m2 else m3
        victim.kill(signal.SIGKILL)
        time.sleep(2)
        victim.start(initial_cluster=c.initial_cluster(first))
        c.wait_ready([victim], timeout=60)
        c.etcdctl("member", "remove", f"{new_id:x}")
        m4.proc.wait(timeout=30)
        assert m4.proc.returncode == 0, m4.log_text()[-2000:]
        out, _ = load.communicate(timeout=120)
        assert load.returncode == 0, out
    finally:
        if load and load.poll() is None:
            load.kill()
        c.stop()
    ops = sum(1 for _ in history.open())
    assert ops > 100, f"only {ops} operations recorded"
    check = subprocess.run([str(lincheck), "-timeout=120s", str(history)], capture_output=True, text=True,
                           timeout=300)
    print(check.stdout)
    assert check.returncode == 0, check.stdout + check.stderr
