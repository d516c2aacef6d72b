"""Linearizability under faults: concurrent put/get/cas clients (tools/kvload, the official etcd Go
client) record histories on a small key set while members are partitioned (real network namespaces,
packets dropped) and killed with SIGKILL; tools/lincheck (the porcupine checker) must find every
history linearizable. Reports how many histories and operations it checked."""
import re
import signal
import subprocess
import threading
import time

import pytest

import gotools
import netns

pytestmark = pytest.mark.skipif(netns.available() is not None, reason=str(netns.available()))


def record_history(cluster, path, seconds, clients=4, keys=16):
    kvload = gotools.tool("kvload")
    return subprocess.Popen(
        [str(kvload), f"-endpoints={','.join(m.client_url for m in cluster.members)}",
         f"-cacert={cluster.certs}/ca.pem", f"-cert={cluster.certs}/client.pem",
         f"-key={cluster.certs}/client-key.pem", "-op=mixed", f"-clients={clients}", f"-keys={keys}",
         f"-duration={seconds}s", "-timeout=3s", f"-history={path}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def faults_partition_leader(cluster):
    time.sleep(2)
    leader = cluster.leader()
    leader.partition()
    time.sleep(4)  # the rest elect a new leader and keep serving
    leader.heal()


def faults_kill_leader(cluster):
    time.sleep(2)
    leader = cluster.leader()
    leader.kill(signal.SIGKILL)
    time.sleep(3)
    leader.start()


def faults_partition_follower_kill_leader(cluster):
    time.sleep(1.5)
    leader = cluster.leader()
    follower = next(m for m in cluster.members if m is not leader)
    follower.partition()
    time.sleep(1.5)
    leader.kill(signal.SIGKILL)
    time.sleep(3)
    follower.heal()
    leader.start()


SCHEDULES = [faults_partition_leader, faults_kill_leader, faults_partition_follower_kill_leader]


def test_histories_under_partitions_and_kill9_are_linearizable(tmp_path):
    histories = []
    with netns.NetnsCluster(tmp_path) as cluster:
        cluster.start()
        for i, faults in enumerate(SCHEDULES):
            path = tmp_path / f"history-{i}-{faults.__name__}.jsonl"
            load = record_history(cluster, path, seconds=10)
            injector = threading.Thread(target=faults, args=(cluster,))
            injector.start()
            injector.join()
            out, _ = load.communicate(timeout=120)
            assert path.exists(), f"kvload wrote no history:\n{out}"
            print(f"{faults.__name__}: {out.strip()}")
            histories.append(path)
            for m in cluster.members:
                m.heal()
                if not m.running():
                    m.start()
            cluster.wait_ready(timeout=60)
        cluster.stop()

    lincheck = gotools.tool("lincheck")
    p = subprocess.run([str(lincheck), "-timeout=60s", *map(str, histories)], capture_output=True, text=True,
                       timeout=600)
    print(p.stdout)
    summary = re.search(r"checked (\d+) histories, (\d+) operations, (\d+) not linearizable", p.stdout)
    assert summary, p.stdout + p.stderr
    assert p.returncode == 0 and summary.group(3) == "0", p.stdout + p.stderr
    ops = int(summary.group(2))
    assert int(summary.group(1)) == len(SCHEDULES)
    # Enough operations completed around the faults for the check to mean something.
    assert ops >= 300, f"only {ops} operations recorded:\n{p.stdout}"
