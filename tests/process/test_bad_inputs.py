"""Bad requests and bad configurations get clear errors, and nothing already written is lost."""
import subprocess

from harness import NODE_BIN, Cluster


def test_bad_requests_are_refused_with_etcd_messages(shared_cluster):
    c = shared_cluster
    c.etcdctl("put", "keep", "me")
    big = "x" * (2 * 1024 * 1024)
    r = c.etcdctl("put", "big", input=big, check=False)  # the value comes on stdin
    assert r.returncode != 0 and ("request is too large" in r.stderr or "larger than max" in r.stderr), r.stderr
    r = c.etcdctl("put", "", "v", check=False)
    assert r.returncode != 0 and "key is not provided" in r.stderr
    r = c.etcdctl("get", "b", "a", check=False)  # range_end before key
    assert r.returncode != 0 and "invalid range" in r.stderr
    assert c.etcdctl("get", "keep").stdout.splitlines() == ["keep", "me"]


def run_node(tmp_path, *flags):
    return subprocess.run([str(NODE_BIN), "--name=a", f"--data-dir={tmp_path}/a",
                           "--initial-cluster=a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3",
                           "--initial-advertise-peer-urls=http://127.0.0.1:1", "--listen-peer-urls=http://127.0.0.1:1",
                           "--listen-client-urls=http://127.0.0.1:1", "--advertise-client-urls=http://127.0.0.1:1",
                           "--insecure-peer", *flags], capture_output=True, text=True, timeout=20)


def test_invalid_thresholds_and_quorums_refuse_to_start(tmp_path):
    for flags, words in [
        (["--threshold=4"], "threshold"),
        (["--threshold=1"], "threshold"),
        (["--threshold=2", "--commit-quorum=1"], "commit-quorum"),
        (["--threshold=2", "--commit-quorum=4"], "commit-quorum"),
        (["--threshold=x"], "threshold"),
    ]:
        r = run_node(tmp_path, *flags)
        assert r.returncode == 2, (flags, r.stdout, r.stderr)
        assert words in r.stderr, (flags, r.stderr)


def test_help_and_version():
    h = subprocess.run([str(NODE_BIN), "--help"], capture_output=True, text=True)
    assert h.returncode == 0 and "--initial-cluster" in h.stdout and "ETSECD_THRESHOLD" in h.stdout
    v = subprocess.run([str(NODE_BIN), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("etsecd-node ")


def test_members_with_mismatched_initial_cluster_do_not_form_a_cluster(tmp_path):
    c = Cluster(tmp_path, members=3, threshold=2)
    try:
        c.members[0].start()
        c.members[1].start()
        # m3 lists the members in another order: its share indexes would differ, so it must be refused.
        other = ",".join(f"{m.name}={m.peer_url}" for m in reversed(c.members))
        c.members[2].start(initial_cluster=other)
        c.wait_ready(c.members[:2], timeout=30)
        import time
        time.sleep(1.5)
        assert not c.members[2].ready()
        assert c.members[2].metric("etsecd_server_has_leader") == 0
    finally:
        c.stop()
