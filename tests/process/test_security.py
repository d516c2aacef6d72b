"""What a stolen data directory reveals: nothing about values. And who may join: only members with
certificates from the cluster's CA."""
import os
import secrets
import subprocess
import time

from harness import NODE_BIN, Cluster, gen_certs


def field_mul(a, b):
    p = 0
    for _ in range(8):
        if b & 1:
            p ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else (a << 1)
        b >>= 1
    return p


def field_inv(a):
    r = 1
    for _ in range(254):  # a^254 = a^-1 in GF(2^8)
        r = field_mul(r, a)
    return r


def interpolate_at_zero(shares):
    """Lagrange interpolation at x=0 over GF(2^8) (polynomial 0x11B), byte-wise: what combine does."""
    length = len(shares[0][1])
    out = bytearray(length)
    for i, (xi, yi) in enumerate(shares):
        num, den = 1, 1
        for j, (xj, _) in enumerate(shares):
            if i != j:
                num = field_mul(num, xj)
                den = field_mul(den, xi ^ xj)
        w = field_mul(num, field_inv(den))
        for b in range(length):
            out[b] ^= field_mul(w, yi[b])
    return bytes(out)


def shares_of(member, key):
    """(x, y) of the member's share of key, from `etsecd-node inspect` (share codec v1 layout)."""
    out = subprocess.run([str(NODE_BIN), "inspect", f"--data-dir={member.data_dir}", f"--prefix={key}"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines()[1:]:
        cols = line.split("\t")
        if cols[0] == key and cols[3] != "-":
            raw = bytes.fromhex(cols[5].replace("...", ""))
            x, k = raw[1], raw[2]
            n = int.from_bytes(raw[3:7], "little")
            return x, raw[7:7 + n], k
    raise AssertionError(f"{member.name} holds no share of {key}")


def test_no_value_bytes_in_any_data_directory(cluster):
    c = cluster
    marker = secrets.token_hex(24)  # 48 ASCII bytes that appear nowhere by chance
    values = {f"secret/{i}": f"{marker}-{i}" for i in range(20)}
    for k, v in values.items():
        c.etcdctl("put", k, v)
    for m in c.members:
        m.kill()
    needle = marker.encode()
    for m in c.members:
        for root, _, files in os.walk(m.dir):
            for f in files:
                data = open(os.path.join(root, f), "rb").read()
                assert needle not in data and needle[:16] not in data, f"value bytes in {root}/{f}"


def test_k_minus_1_members_do_not_rebuild_a_value_but_k_do(cluster):
    c = cluster
    value = "the launch code is " + secrets.token_hex(8)
    c.etcdctl("put", "nuke", value)
    time.sleep(0.5)  # let every member apply
    for m in c.members:
        m.kill()
    shares = [shares_of(m, "nuke") for m in c.members]
    xs = {x for x, _, _ in shares}
    assert len(xs) == 5, "every member has its own share index"
    assert len({y for _, y, _ in shares}) == 5, "members hold different bytes"
    k = shares[0][2]
    assert k == 3
    assert interpolate_at_zero([(x, y) for x, y, _ in shares[:k]]).decode() == value
    wrong = interpolate_at_zero([(x, y) for x, y, _ in shares[:k - 1]])
    assert wrong != value.encode()


def test_member_with_certificate_from_another_ca_is_refused(tmp_path):
    c = Cluster(tmp_path / "good")
    evil_certs = tmp_path / "evil-certs"
    # A complete, self-consistent identity from another CA (a member refuses to start with a certificate
    # that does not chain to its own trusted CA, so the intruder trusts its own).
    gen_certs(evil_certs, ["m1"])
    for m in c.members[1:]:
        m.start()
    intruder = c.members[0]
    intruder.start(certs=evil_certs)
    try:
        c.wait_ready(c.members[1:], timeout=30)
        c.etcdctl("put", "k", "v", endpoints=[m.client_url for m in c.members[1:]])
        time.sleep(1)
        assert intruder.running(), intruder.log_text()[-2000:]
        assert not intruder.ready()
        assert intruder.metric("etsecd_server_has_leader") == 0
        # The members saw the intruder's handshakes fail on its certificate and never accepted it.
        assert all(m.metric("etsecd_server_has_leader") == 1 for m in c.members[1:])
    finally:
        c.stop()
