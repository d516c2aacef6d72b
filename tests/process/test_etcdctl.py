"""Real etcdctl (Debian etcd-client, API v3) against a 5-member, threshold-3 cluster with TLS."""
import base64


def b64(s):
    return base64.b64decode(s).decode()


def test_put_get_delete(shared_cluster):
    c = shared_cluster
    assert c.etcdctl("put", "foo", "bar").stdout.strip() == "OK"
    assert c.etcdctl("get", "foo").stdout.splitlines() == ["foo", "bar"]
    # Each endpoint alone serves the same value (followers forward or gather shares).
    for m in c.members:
        assert c.etcdctl("get", "foo", endpoints=[m.client_url]).stdout.splitlines() == ["foo", "bar"]
        assert c.etcdctl("get", "foo", "--consistency=s", endpoints=[m.client_url]).stdout.splitlines() == ["foo", "bar"]
    assert c.etcdctl("del", "foo").stdout.strip() == "1"
    assert c.etcdctl("get", "foo").stdout == ""


def test_writes_through_every_member(shared_cluster):
    # A follower forwards writes to the leader, which answers them when the entry applies: at once for
    # a plain put, after rebuilding values for prev_kv, after deciding value compares for a txn.
    c = shared_cluster
    for i, m in enumerate(c.members):
        ep = [m.client_url]
        key = f"via/{i}"
        assert c.etcdctl("put", key, "first", endpoints=ep).stdout.strip() == "OK"
        assert c.etcdctl("put", key, "second", "--prev-kv", endpoints=ep).stdout.splitlines() == [
            "OK", key, "first"]
        txn = f'value("{key}") = "second"\n\nput {key} third\n\nput {key} wrong\n\n'
        assert c.etcdctl("txn", input=txn, endpoints=ep).stdout.splitlines()[0] == "SUCCESS"
        txn = f'version("{key}") = "3"\n\nput {key} fourth\n\n\n'
        assert c.etcdctl("txn", input=txn, endpoints=ep).stdout.splitlines()[0] == "SUCCESS"
        assert c.etcdctl("del", key, "--prev-kv", endpoints=ep).stdout.splitlines() == ["1", key, "fourth"]
        r = c.etcdctl("put", "", "v", endpoints=ep, check=False)
        assert r.returncode != 0 and "key is not provided" in r.stderr
        r = c.etcdctl("put", "big", input="x" * (2 * 1024 * 1024), endpoints=ep, check=False)
        assert r.returncode != 0 and ("request is too large" in r.stderr or "larger than max" in r.stderr)
    assert c.etcdctl("get", "via/", "--prefix").stdout == ""


def test_prefix_limit_and_revisions(shared_cluster):
    c = shared_cluster
    revs = []
    for i in range(5):
        out = c.etcdctl("put", f"pfx/{i}", f"value-{i}", json_out=True)
        revs.append(out["header"]["revision"])
    got = c.etcdctl("get", "pfx/", "--prefix").stdout.splitlines()
    assert got == sum([[f"pfx/{i}", f"value-{i}"] for i in range(5)], [])
    limited = c.etcdctl("get", "pfx/", "--prefix", "--limit=2", json_out=True)
    assert [b64(kv["key"]) for kv in limited["kvs"]] == ["pfx/0", "pfx/1"]
    assert limited["more"] is True and limited["count"] == 5
    # Overwrite, then read the old revision.
    c.etcdctl("put", "pfx/0", "newer")
    assert c.etcdctl("get", "pfx/0").stdout.splitlines()[1] == "newer"
    assert c.etcdctl("get", "pfx/0", f"--rev={revs[0]}").stdout.splitlines()[1] == "value-0"
    keys = c.etcdctl("get", "pfx/", "--prefix", "--keys-only").stdout.split()
    assert keys == [f"pfx/{i}" for i in range(5)]
    # etcdctl 3.4 has no --count-only; the count of a limited range is the full count (etcd's rule).
    one = c.etcdctl("get", "pfx/", "--prefix", "--limit=1", "--keys-only", json_out=True)
    assert one["count"] == 5 and len(one["kvs"]) == 1 and "value" not in one["kvs"][0]
    desc = c.etcdctl("get", "pfx/", "--prefix", "--order=DESCEND", "--sort-by=VALUE", json_out=True)
    values = [b64(kv["value"]) for kv in desc["kvs"]]
    assert values == sorted(values, reverse=True)


def test_txn_compares_on_value_and_revisions(shared_cluster):
    c = shared_cluster
    c.etcdctl("put", "acct", "100")
    txn = 'value("acct") = "100"\n\nput acct 90\nput log debit\n\nput acct failed\n\n'
    out = c.etcdctl("txn", input=txn).stdout.splitlines()
    assert out[0] == "SUCCESS"
    assert c.etcdctl("get", "acct").stdout.splitlines()[1] == "90"
    # The same compare now fails and the failure branch runs.
    out = c.etcdctl("txn", input=txn).stdout.splitlines()
    assert out[0] == "FAILURE"
    assert c.etcdctl("get", "acct").stdout.splitlines()[1] == "failed"
    mod = c.etcdctl("get", "acct", json_out=True)["kvs"][0]["mod_revision"]
    txn2 = f'mod("acct") = "{mod}"\nversion("acct") > "1"\n\nget acct\n\n\n'
    out = c.etcdctl("txn", input=txn2).stdout.splitlines()
    assert out[0] == "SUCCESS" and out[-1] == "failed"


def test_compaction(shared_cluster):
    c = shared_cluster
    first = c.etcdctl("put", "cmp", "one", json_out=True)["header"]["revision"]
    c.etcdctl("put", "cmp", "two")
    cur = c.etcdctl("put", "cmp", "three", json_out=True)["header"]["revision"]
    assert "compacted revision" in c.etcdctl("compaction", str(cur)).stdout
    r = c.etcdctl("get", "cmp", f"--rev={first}", check=False)
    assert r.returncode != 0 and "required revision has been compacted" in r.stderr
    r = c.etcdctl("get", "cmp", f"--rev={cur + 1000}", check=False)
    assert r.returncode != 0 and "required revision is a future revision" in r.stderr
    assert c.etcdctl("get", "cmp").stdout.splitlines()[1] == "three"


def test_endpoint_status_health_and_member_list(shared_cluster):
    c = shared_cluster
    health = c.etcdctl("endpoint", "health")
    assert health.stderr.count("is healthy") + health.stdout.count("is healthy") == 5
    status = c.etcdctl("endpoint", "status", json_out=True)
    assert len(status) == 5
    leaders = {s["Status"]["leader"] for s in status}
    assert len(leaders) == 1 and 0 not in leaders
    members = c.etcdctl("member", "list", json_out=True)["members"]
    assert sorted(m["name"] for m in members) == [f"m{i}" for i in range(1, 6)]
    for m in members:
        assert m["clientURLs"] and m["peerURLs"]
