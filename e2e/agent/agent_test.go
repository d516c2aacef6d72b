package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestExpandVars(t *testing.T) {
	env := map[string]string{"POD_IP": "127.2.0.7", "N": "3"}
	cases := map[string]string{
		"--listen=$(POD_IP):2379": "--listen=127.2.0.7:2379",
		"$(N)$(N)":                "33",
		"$$(POD_IP)":              "$(POD_IP)",
		"$(MISSING)":              "$(MISSING)",
		"$(unclosed":              "$(unclosed",
		"plain $ sign":            "plain $ sign",
	}
	for in, want := range cases {
		if got := expandVars(in, env); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestImageRepo(t *testing.T) {
	cases := map[string]string{
		"etsecd/etsecd-node:1.2":   "etsecd/etsecd-node",
		"reg:5000/etsecd/node:1.2": "reg:5000/etsecd/node",
		"reg:5000/etsecd/node":     "reg:5000/etsecd/node",
		"etsecd/node@sha256:abc":   "etsecd/node",
		"etsecd/node:1@sha256:abc": "etsecd/node",
		"e2e.local/python":         "e2e.local/python",
	}
	for in, want := range cases {
		if got := imageRepo(in); got != want {
			t.Errorf("imageRepo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestArgvFollowsCommandAndArgs(t *testing.T) {
	b := binaryMap{"etsecd/etsecd-node": "/opt/etsecd-node", "/bin/run": "/opt/run"}
	env := map[string]string{"POD_IP": "127.2.0.1"}
	got, err := b.argv(&corev1.Container{Image: "etsecd/etsecd-node:1", Args: []string{"--ip=$(POD_IP)"}}, env)
	if err != nil || strings.Join(got, " ") != "/opt/etsecd-node --ip=127.2.0.1" {
		t.Fatalf("image entrypoint: %v %v", got, err)
	}
	got, err = b.argv(&corev1.Container{Image: "other:1", Command: []string{"/bin/run", "x"}, Args: []string{"y"}}, env)
	if err != nil || strings.Join(got, " ") != "/opt/run x y" {
		t.Fatalf("command mapping: %v %v", got, err)
	}
	if _, err := b.argv(&corev1.Container{Image: "unknown:1"}, env); err == nil {
		t.Fatal("an unmapped image must be an error, not a guess")
	}
}

func TestLoopbackPool(t *testing.T) {
	if _, err := newLoopbackPool("10.0.0.0/24"); err == nil {
		t.Fatal("a non-loopback range must be refused")
	}
	p, err := newLoopbackPool("127.9.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.acquire("a")
	b, _ := p.acquire("b")
	again, _ := p.acquire("a")
	if a == b || a != again {
		t.Fatalf("a=%v b=%v again=%v", a, b, again)
	}
	if a.String() != "127.9.0.1" {
		t.Fatalf("first address %v, want 127.9.0.1 (never the network address)", a)
	}
	p.release("a")
	c, err := p.acquire("c")
	if err != nil || c == b {
		t.Fatalf("after release: %v %v", c, err)
	}
}

func TestHostsFileNamesStatefulSetMembers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	h, err := newHostsFile(path, "cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.set("uid1", "127.2.0.4", "m-0", "peers", "ns"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "127.2.0.4 m-0.peers.ns.svc.cluster.local m-0.peers.ns.svc m-0.peers.ns m-0.peers m-0\n") {
		t.Fatalf("hosts file:\n%s", data)
	}
	before, _ := os.Stat(path)
	if err := h.remove("uid1"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Fatal("the hosts file must be rewritten in place: a bind mount pins its inode")
	}
	data, _ = os.ReadFile(path)
	if strings.Contains(string(data), "m-0") {
		t.Fatalf("entry not removed:\n%s", data)
	}
}
