#!/usr/bin/env bash
# etsecd-operator against a real Kubernetes control plane (e2e/control-plane: kube-apiserver,
# controller-manager, scheduler, etcd, kwok nodes, and the e2e agent running member pods as real
# etsecd-node processes). The operator runs here, outside the cluster, with the admin kubeconfig.
#
#   operator_e2e.sh OPERATOR_BINARY SOURCE_DIR [NODE_BINARY]
#
# Ends with `N passed, N failed`; exit status 1 if anything failed. Uses its own port block and pod
# ranges so that it can run beside another control plane.
set -euo pipefail
OPERATOR="$(realpath "$1")"
SRC="$(realpath "$2")"
NODE_BIN="${3:-$(dirname "$OPERATOR")/../node/etsecd-node}"
NODE_BIN="$(realpath "$NODE_BIN")"

export ETSECD_E2E_PORT_BASE="${ETSECD_E2E_PORT_BASE:-24400}"
export ETSECD_E2E_POD_CIDR="${ETSECD_E2E_POD_CIDR:-127.24.0.0/16}"
export ETSECD_E2E_AGENT_POD_CIDR="${ETSECD_E2E_AGENT_POD_CIDR:-127.25.0.0/16}"
METRICS_PORT=$((ETSECD_E2E_PORT_BASE + 80))

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # check NAME CMD...
  local name="$1"; shift
  if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}
eventually() { # eventually SECONDS CMD...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# Flags are checked before anything else happens.
set +e
"$OPERATOR" --metrics-bind-address=nonsense 2>/tmp/etsecd-op-e2e-flags.$$
rc=$?
set -e
if ((rc == 2)) && grep -q -- "--metrics-bind-address" /tmp/etsecd-op-e2e-flags.$$; then ok "bad flag: exit 2 naming the flag"; else not_ok "bad flag: exit 2 naming the flag (rc $rc)"; fi
rm -f /tmp/etsecd-op-e2e-flags.$$
check "--version" bash -c "'$OPERATOR' --version | grep -q '^etsecd-operator '"

"$SRC/e2e/control-plane/build" >/dev/null
DIR="$(mktemp -d "${TMPDIR:-/tmp}/etsecd-op-e2e.XXXXXX")"
OP_PID=""
OP2_PID=""
cleanup() {
  for pid in $OP_PID $OP2_PID; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  done
  "$SRC/e2e/control-plane/down" "$DIR" --purge >/dev/null 2>&1 || true
}
trap cleanup EXIT
ETSECD_E2E_BINARIES="etsecd/etsecd-node=$NODE_BIN" "$SRC/e2e/control-plane/up" "$DIR" >"$DIR.up.log" 2>&1 ||
  { cat "$DIR.up.log"; exit 1; }
rm -f "$DIR.up.log"
# shellcheck source=/dev/null
source "$DIR/env"

NS="op-e2e"
kubectl create namespace "$NS" >/dev/null
kubectl apply -f "$SRC/crds/" >/dev/null
check "CRD established" kubectl wait --for condition=established --timeout=60s crd/etsecdclusters.etsecd.io

LOG="$DIR/operator.log"
"$OPERATOR" --kubeconfig="$KUBECONFIG" --leader-elect --leader-election-id=etsecd-operator \
  --leader-election-namespace="$NS" --watch-namespaces="$NS" --metrics-bind-address="127.0.0.1:$METRICS_PORT" \
  --member-image-repository=etsecd/etsecd-node --default-member-version=0.1.0 --cluster-domain=cluster.local \
  --log-level=debug >"$LOG" 2>&1 &
OP_PID=$!

check "/healthz answers" eventually 30 curl -sf "http://127.0.0.1:$METRICS_PORT/healthz"
leader_lease() { [[ -n "$(kubectl -n "$NS" get lease etsecd-operator -o jsonpath='{.spec.holderIdentity}')" ]]; }
check "operator takes the Lease" eventually 30 leader_lease
check "metrics: leader 1" eventually 10 bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -qx 'etsecd_operator_leader 1'"

kubectl -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: etsecd.io/v1alpha1
kind: EtsecdCluster
metadata:
  name: demo
spec:
  replicas: 3
  threshold: 2
  storage:
    size: 1Gi
YAML

exists() { kubectl -n "$NS" get "$1" "$2"; }
check "StatefulSet demo" eventually 60 exists statefulset demo
check "Service demo (client)" eventually 30 exists service demo
check "Service demo-peer (headless)" eventually 30 exists service demo-peer
check "PodDisruptionBudget demo" eventually 30 exists poddisruptionbudget demo
for s in demo-ca demo-member-tls demo-client-tls; do check "Secret $s" eventually 30 exists secret "$s"; done
owned_by_cluster() {
  [[ "$(kubectl -n "$NS" get statefulset demo -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')" == "EtsecdCluster/demo/true" ]]
}
check "StatefulSet controlled by the EtsecdCluster" owned_by_cluster
managed_by_operator() {
  kubectl -n "$NS" get statefulset demo --show-managed-fields -o jsonpath='{.metadata.managedFields[*].manager}' | grep -qw etsecd-operator
}
check "server-side apply with field manager etsecd-operator" managed_by_operator
check "StatefulSet: 3 replicas, OnDelete" bash -c "[[ \"\$(kubectl -n $NS get sts demo -o jsonpath='{.spec.replicas}/{.spec.updateStrategy.type}')\" == 3/OnDelete ]]"
status_written() {
  [[ "$(kubectl -n "$NS" get esc demo -o jsonpath='{.status.observedGeneration}')" == "$(kubectl -n "$NS" get esc demo -o jsonpath='{.metadata.generation}')" ]] &&
    [[ -n "$(kubectl -n "$NS" get esc demo -o jsonpath='{.status.phase}')" ]]
}
check "status: observedGeneration and phase" eventually 60 status_written
check "status: threshold 2" eventually 30 bash -c "[[ \"\$(kubectl -n $NS get esc demo -o jsonpath='{.status.threshold}')\" == 2 ]]"
check "Events on the EtsecdCluster" eventually 30 bash -c "kubectl -n $NS get events --field-selector involvedObject.kind=EtsecdCluster,involvedObject.name=demo -o name | grep -q ."
pods_placed() { [[ "$(kubectl -n "$NS" get pods -l app.kubernetes.io/instance=demo -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c .)" == 3 ]]; }
check "3 member pods scheduled" eventually 90 pods_placed
running() { [[ "$(kubectl -n "$NS" get esc demo -o jsonpath='{.status.phase}')" == Running ]]; }
if eventually 150 running; then
  ok "cluster Running (member list read over mutual TLS)"
  check "status: leader set" bash -c "[[ -n \"\$(kubectl -n $NS get esc demo -o jsonpath='{.status.leader}')\" ]]"
  check "status: 3 members with IDs" bash -c "[[ \"\$(kubectl -n $NS get esc demo -o jsonpath='{range .status.members[*]}{.memberID}{\"\\n\"}{end}' | grep -c .)\" == 3 ]]"
else
  not_ok "cluster Running (phase $(kubectl -n "$NS" get esc demo -o jsonpath='{.status.phase}'))"
fi

# Idempotence: with the cluster settled, a watch event causes a pass that changes nothing.
versions() {
  for o in statefulset/demo service/demo service/demo-peer poddisruptionbudget/demo secret/demo-ca \
    secret/demo-member-tls secret/demo-client-tls; do
    kubectl -n "$NS" get "$o" -o jsonpath='{.metadata.resourceVersion} '
  done
  kubectl -n "$NS" get esc demo -o jsonpath='{.status}' | sha256sum
}
settled() { # same versions and status over 12 s
  local a b
  a="$(versions)"; sleep 12; b="$(versions)"
  [[ "$a" == "$b" ]]
}
check "objects settle" eventually 120 settled
before="$(versions)"
plans_before="$(grep -c '"msg":"plan"' "$LOG" || true)"
kubectl -n "$NS" annotate esc demo e2e.etsecd.io/poke="$(date +%s)" --overwrite >/dev/null
new_plan() { (($(grep -c '"msg":"plan"' "$LOG") > plans_before)); }
check "a watch event triggers a reconcile" eventually 30 new_plan
sleep 3
no_actions_after_poke() {
  tail -n +1 "$LOG" | python3 -c '
import json, sys
n = int(sys.argv[1]); seen = 0; bad = []
for line in sys.stdin:
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("msg") == "plan":
        seen += 1
        if seen > n and e.get("actions") != 0: bad.append(line)
    if seen > n and e.get("msg") == "done": bad.append(line)
sys.exit(1 if bad or seen <= n else 0)' "$plans_before"
}
check "second reconcile plans no action" no_actions_after_poke
after="$(versions)"
if [[ "$before" == "$after" ]]; then ok "resourceVersions and status unchanged"; else not_ok "resourceVersions and status unchanged"; fi
check "metrics: reconciles counted" bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q '^etsecd_operator_reconciles_total{result=\"success\"} [1-9]'"

# Scaling up: the operator adds the new member as a learner through the member API, the StatefulSet
# starts its pod with the same flags as the bootstrap members (its name is not in --initial-cluster, so
# it joins), the member is repaired, and once its pod is Ready the operator promotes it.
kubectl -n "$NS" scale esc demo --replicas=4 >/dev/null
learner_added() { grep '"msg":"done"' "$LOG" | grep -q 'add-learner demo-3'; }
check "scale to 4: the member API accepts AddLearner for demo-3" eventually 90 learner_added
promoted() { grep '"msg":"done"' "$LOG" | grep -q 'promote demo-3'; }
check "scale to 4: demo-3 joins, becomes Ready and is promoted" eventually 150 promoted
four_ready() { [[ "$(kubectl -n "$NS" get esc demo -o jsonpath='{.status.readyReplicas}/{.status.phase}')" == 4/Running ]]; }
check "scale to 4: 4 Ready members, phase Running" eventually 60 four_ready

# A second replica waits for the Lease and acts only after the first hands it over.
LOG2="$DIR/operator2.log"
POD_NAME=standby "$OPERATOR" --kubeconfig="$KUBECONFIG" --leader-elect --leader-election-id=etsecd-operator \
  --leader-election-namespace="$NS" --watch-namespaces="$NS" --metrics-bind-address="127.0.0.1:$((METRICS_PORT + 1))" \
  --log-level=debug >"$LOG2" 2>&1 &
OP2_PID=$!
sleep 8
if grep -q '"msg":"became leader"' "$LOG2" || grep -q '"msg":"plan"' "$LOG2"; then not_ok "standby does not act while the Lease is held"; else ok "standby does not act while the Lease is held"; fi

# SIGTERM: stop acting, release the Lease, exit 0.
kill -TERM "$OP_PID"
rc=0
for _ in $(seq 1 30); do kill -0 "$OP_PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$OP_PID" 2>/dev/null; then not_ok "SIGTERM: exits within 15 s"; else wait "$OP_PID" || rc=$?; OP_PID=""; if ((rc == 0)); then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit $rc"; fi; fi
standby_leads() { grep -q '"msg":"became leader"' "$LOG2" && [[ "$(kubectl -n "$NS" get lease etsecd-operator -o jsonpath='{.spec.holderIdentity}')" == standby ]]; }
check "standby takes over the released Lease" eventually 20 standby_leads
check "standby reconciles" eventually 20 grep -q '"msg":"plan"' "$LOG2"
kill -TERM "$OP2_PID"
rc=0
wait "$OP2_PID" || rc=$?
OP2_PID=""
if ((rc == 0)); then ok "standby: SIGTERM exit 0"; else not_ok "standby: SIGTERM exit $rc"; fi
check "Lease released" bash -c "[[ -z \"\$(kubectl -n $NS get lease etsecd-operator -o jsonpath='{.spec.holderIdentity}')\" ]]"

if ((failed > 0)); then
  echo "--- operator log (last 60 lines)"
  tail -n 60 "$LOG"
  [[ -f "${LOG2:-}" ]] && { echo "--- standby log (last 30 lines)"; tail -n 30 "$LOG2"; }
fi
echo "$passed passed, $failed failed"
((failed == 0))
