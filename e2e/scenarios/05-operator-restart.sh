#!/usr/bin/env bash
# scenario: the operator is killed mid-reconcile (SIGKILL, then pod delete) and converges without duplicates
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

NS=e2e-restart
NAME=restart
operator_ready || fail "no Ready operator pod (scenario 01 did not leave one)"
pod="$(operator_pod)"
restarts_before="$(jp "$E2E_OPERATOR_NS" "pod/$pod" '{.status.containerStatuses[0].restartCount}')"
pid="$(operator_pid "$pod")" || fail "cannot find the process of operator pod $pod ($E2E_OPERATOR_BIN)"

ensure_ns "$NS"

# Kill 1: SIGKILL the operator process in the middle of its first reconcile of a new cluster. It is
# paused while the object is created; a watch on the first object it writes (the CA Secret) is
# opened; it is resumed and killed the moment the watch reports that Secret, before it has written
# the rest (Services, StatefulSet, PDB, status) if it is not faster than one watch event.
kill -STOP "$pid"
exec {watch_fd}< <(exec curl -sN --cacert "$ETSECD_E2E_DIR/pki/ca.crt" --cert "$ETSECD_E2E_DIR/pki/admin.crt" \
  --key "$ETSECD_E2E_DIR/pki/admin.key" \
  "$ETSECD_E2E_APISERVER/api/v1/namespaces/$NS/secrets?watch=1&fieldSelector=metadata.name%3D$NAME-ca")
watch_pid=$!
esc_manifest "$NS" "$NAME" 3 2 | kubectl apply -f - >/dev/null || { kill -CONT "$pid"; fail "kubectl apply failed"; }
kill -CONT "$pid"
if ! read -r -t 60 -u "$watch_fd" _; then
  kill "$watch_pid" 2>/dev/null || true
  fail "operator created no CA Secret for $NS/$NAME within 60 s: $(esc_brief "$NS" "$NAME")"
fi
kill -KILL "$pid"
kill "$watch_pid" 2>/dev/null || true
exec {watch_fd}<&-
uid="$(jp "$NS" "esc/$NAME" '{.metadata.uid}')"
written="$(owned_objects "$NS" "$uid" | awk '{print $1}' | tr '\n' ' ')"
status_at_kill="$(jp "$NS" "esc/$NAME" '{.status.phase}')"
log "killed operator pid $pid after it wrote: $written(status phase '${status_at_kill}')"

restarted() { (($(jp "$E2E_OPERATOR_NS" "pod/$pod" '{.status.containerStatuses[0].restartCount}') > restarts_before)); }
eventually 30 restarted || fail "operator pod $pod not restarted by the agent 30 s after SIGKILL"

# Kill 2: delete the operator pod while members are starting; the Deployment makes a new pod, which
# must take over the Lease (the old holder never released it) and finish the job.
some_member() { [[ -n "$(member_pods "$NS" "$NAME")" ]]; }
eventually 60 some_member || fail "no member pods 60 s after the restart: $(esc_brief "$NS" "$NAME"); operator log: $(pod_log_tail "$E2E_OPERATOR_NS" "$pod" 4)"
kubectl -n "$E2E_OPERATOR_NS" delete pod "$pod" --wait=false >/dev/null
new_pod() { local p; p="$(operator_pod)"; [[ -n "$p" && "$p" != "$pod" ]] && pod_ready "$E2E_OPERATOR_NS" "$p"; }
eventually 60 new_pod || fail "no new Ready operator pod 60 s after deleting $pod"
pod2="$(operator_pod)"
holder() { jp "$E2E_OPERATOR_NS" "lease/$E2E_LEASE" '{.spec.holderIdentity}'; }
new_leader() { local h; h="$(holder)"; [[ "$h" == "$pod2" || "$h" == "$pod2"_* ]]; }
eventually 60 new_leader || fail "new operator pod $pod2 did not take the Lease within 60 s (holder '$(holder)')"

converged() {
  [[ "$(jp "$NS" "esc/$NAME" '{.status.readyReplicas}')" == 3 &&
    "$(condition "$NS" "esc/$NAME" Available)" == True &&
    "$(jp "$NS" "esc/$NAME" '{.status.phase}')" == Running ]]
}
eventually 150 converged || fail "cluster did not converge within 150 s after the restarts: $(esc_brief "$NS" "$NAME"); pods: $(member_pods "$NS" "$NAME" | tr '\t\n' ' |')"

# Exactly the expected objects, each once, each controlled by this EtsecdCluster.
uid="$(jp "$NS" "esc/$NAME" '{.metadata.uid}')"
count() { kubectl -n "$NS" get "$1" -l "app.kubernetes.io/instance=$NAME" -o name | sort; }
expect_names() { # RESOURCE EXPECTED-NAMES...
  local res="$1" got want
  shift
  got="$(count "$res" | sed 's|.*/||' | tr '\n' ' ')"
  want="$(printf '%s\n' "$@" | sort | tr '\n' ' ')"
  [[ "$got" == "$want" ]] || fail "$res of $NAME: have [$got], expected exactly [$want]"
}
expect_names statefulsets "$NAME"
expect_names services "$NAME" "$NAME-peer"
expect_names poddisruptionbudgets "$NAME"
expect_names secrets "$NAME-ca" "$NAME-member-tls" "$NAME-client-tls"
expect_names pods "$NAME-0" "$NAME-1" "$NAME-2"
expect_names persistentvolumeclaims "data-$NAME-0" "data-$NAME-1" "data-$NAME-2"
# No second controller and no orphan: each top-level object has one controller reference, to us.
bad="$(kubectl -n "$NS" get statefulsets,services,poddisruptionbudgets,secrets -l "app.kubernetes.io/instance=$NAME" -o json |
  jq -r --arg uid "$uid" '.items[] | select([.metadata.ownerReferences[]? | select(.controller == true)] |
    (length != 1 or .[0].uid != $uid)) | "\(.kind)/\(.metadata.name)"')"
[[ -z "$bad" ]] || fail "objects not controlled by exactly this EtsecdCluster: $bad"
# Status holds each member once.
members="$(kubectl -n "$NS" get esc "$NAME" -o json | jq -r '[.status.members[].name] | sort | join(",")')"
[[ "$members" == "$NAME-0,$NAME-1,$NAME-2" ]] || fail "status.members is [$members]"
# Both operator processes minted the TLS material at most once: members and client agree on the CA.
out="$(etcdctl_tls "$NS" "$NAME" put /e2e/after-restart yes 2>&1)" || fail "etcdctl put after the restarts failed: $out"
got="$(etcdctl_tls "$NS" "$NAME" get /e2e/after-restart --print-value-only 2>&1)" || fail "etcdctl get failed: $got"
[[ "$got" == yes ]] || fail "etcdctl get returned '$got'"

pass "SIGKILL after [$written] (phase '$status_at_kill') and pod delete; $pod2 leads; 3/3 Ready, Running; one sts, 2 svc, 1 pdb, 3 secrets, 3 pods, 3 pvcs; put/get works"
