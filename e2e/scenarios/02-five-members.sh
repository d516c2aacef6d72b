#!/usr/bin/env bash
# scenario: 5-member threshold-3 cluster: Ready, spread, status right, etcdctl put/get over TLS
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

NS=e2e-five
NAME=demo
operator_ready || fail "no Ready operator pod (scenario 01 did not leave one)"
ensure_ns "$NS"
esc_manifest "$NS" "$NAME" 5 3 | kubectl apply -f - >/dev/null || fail "kubectl apply of a valid EtsecdCluster failed"

sts_ready() { [[ "$(jp "$NS" "sts/$NAME" '{.status.readyReplicas}')" == 5 ]]; }
if ! eventually 150 sts_ready; then
  pods="$(member_pods "$NS" "$NAME" | tr '\t\n' ' |')"
  first_bad="$(member_pods "$NS" "$NAME" | awk '$4 != "True" {print $1; exit}')"
  fail "members not all Ready after 150 s: sts readyReplicas='$(jp "$NS" "sts/$NAME" '{.status.readyReplicas}')' pods: ${pods:-none}; ${first_bad:+$first_bad log: $(pod_log_tail "$NS" "$first_bad" 3)}; esc: $(esc_brief "$NS" "$NAME")"
fi
log "all 5 members Ready"

# Placement: one member per node, at most 2 per zone (k-1 = 2: no zone can rebuild a value).
placement="$(placement_summary "$NS" "$NAME")"
max_zone="$(sed 's/.*max_zone=\([0-9]*\).*/\1/' <<<"$placement")"
max_node="$(sed 's/.*max_node=\([0-9]*\).*/\1/' <<<"$placement")"
((max_zone <= 2 && max_node <= 1)) || fail "placement breaks the spread: $placement"

# Status, once the operator has observed the Ready members.
status_settled() {
  [[ "$(jp "$NS" "esc/$NAME" '{.status.readyReplicas}')" == 5 &&
    "$(condition "$NS" "esc/$NAME" Available)" == True ]]
}
eventually 60 status_settled || fail "status did not settle within 60 s of all pods Ready: $(esc_brief "$NS" "$NAME")"
status="$(kubectl -n "$NS" get esc "$NAME" -o json | jq -c .status)"
# Wrong status fields are collected, and the data checks below still run; the scenario fails at the
# end with every mismatch.
status_errors=""
want() { # LABEL JQ-EXPR EXPECTED
  local got
  got="$(jq -r "$2" <<<"$status")"
  [[ "$got" == "$3" ]] || status_errors+="status.$1 is '$got', expected '$3'; "
}
want replicas .replicas 5
want readyReplicas .readyReplicas 5
want threshold .threshold 3
# W defaults to ceil((n+k)/2) (issue 3): 4 for n=5, k=3, so every committed value keeps k holders
# among any W members that are up.
want commitQuorum .commitQuorum 4
want faultTolerance.writes .faultTolerance.writes 1
want faultTolerance.readsAfterCommit .faultTolerance.readsAfterCommit 1
want faultTolerance.readsFullyReplicated .faultTolerance.readsFullyReplicated 2
want phase .phase Running
want 'conditions[Available]' '.conditions[] | select(.type=="Available") | .status' True
want 'conditions[Degraded]' '.conditions[] | select(.type=="Degraded") | .status' False
want 'conditions[ZoneLeakRisk]' '.conditions[] | select(.type=="ZoneLeakRisk") | .status' False
want observedGeneration .observedGeneration "$(jp "$NS" "esc/$NAME" '{.metadata.generation}')"
want 'members count' '.members | length' 5
want 'members share indexes' '[.members[].shareIndex] | sort | map(tostring) | join(",")' 1,2,3,4,5
want 'members ready' '[.members[] | select(.ready == true)] | length' 5
want 'leaders among members' '[.members[] | select(.role == "leader")] | length' 1
leader="$(jq -r .leader <<<"$status")"
# Each member's zone and node in the status are where its pod really is.
zones_json="$(kubectl get nodes -o json | jq -c '[.items[] | {(.metadata.name): (.metadata.labels["topology.kubernetes.io/zone"] // "")}] | add')"
pods_json="$(kubectl -n "$NS" get pods -l "app.kubernetes.io/instance=$NAME" -o json | jq -c '[.items[] | {(.metadata.name): .spec.nodeName}] | add')"
wrong_place="$(jq -r --argjson z "$zones_json" --argjson p "$pods_json" '.members[] |
  select(.node != $p[.name] or .zone != $z[$p[.name] // ""]) | "\(.name) node=\(.node) zone=\(.zone)"' <<<"$status" | tr '\n' ' ')"
[[ -z "$wrong_place" ]] || status_errors+="status.members placement differs from the pods: $wrong_place; "
# The PodDisruptionBudget keeps W members: voluntary disruptions never stop writes.
pdb_min="$(jp "$NS" "pdb/$NAME" '{.spec.minAvailable}')"
[[ "$pdb_min" == 4 ]] || status_errors+="PodDisruptionBudget minAvailable is '${pdb_min}', expected W=4; "
# The members themselves compute that W.
member_w="$(kubectl -n "$NS" get sts "$NAME" -o json | jq -r '.spec.template.spec.containers[0].args[]? | select(startswith("--commit-quorum=")) | ltrimstr("--commit-quorum=")')"
# No --commit-quorum unless the spec sets one: the members use the default for their voter count (4).
[[ -z "$member_w" ]] || status_errors+="StatefulSet passes --commit-quorum=$member_w to the members, expected none (the members' default); "
[[ "$leader" == "$NAME"-[0-4] ]] || status_errors+="status.leader is '$leader', expected one of $NAME-0..4; "

# Data through the cluster with TLS, with the client certificate the operator minted.
value="e2e-$(openssl rand -hex 16)"
out="$(etcdctl_tls "$NS" "$NAME" put /e2e/greeting "$value" 2>&1)" || fail "etcdctl put over TLS failed: $out"
[[ "$out" == OK ]] || fail "etcdctl put answered '$out'"
# Read through every member on its own: each read gathers k shares from the cluster.
for i in 0 1 2 3 4; do
  got="$(E2E_ETCD_ENDPOINTS="https://$NAME-$i.$NAME-peer.$NS.svc:2379" \
    etcdctl_tls "$NS" "$NAME" get /e2e/greeting --print-value-only 2>&1)" ||
    fail "etcdctl get through $NAME-$i failed: $got"
  [[ "$got" == "$value" ]] || fail "etcdctl get through $NAME-$i returned '$got', expected '$value'"
done
members="$(etcdctl_tls "$NS" "$NAME" member list 2>&1 | grep -c started || true)"
[[ "$members" == 5 ]] || fail "etcdctl member list shows $members started members, expected 5"
# Without a client certificate the member refuses the client.
if ETCDCTL_API=3 etcdctl --endpoints="https://$(member_pods "$NS" "$NAME" | awk 'NR==1{print $3}'):2379" \
  --insecure-skip-tls-verify --dial-timeout=3s --command-timeout=5s get /e2e/greeting >/dev/null 2>&1; then
  fail "a client without a certificate could read through a member"
fi

# No member's volume holds the plaintext value (each holds one share of it).
leaks=""
checked=0
for i in 0 1 2 3 4; do
  pvc="data-$NAME-$i"
  pv="$(jp "$NS" "pvc/$pvc" '{.spec.volumeName}')"
  [[ -n "$pv" ]] || fail "member $NAME-$i has no bound PVC $pvc"
  path="$(kubectl get pv "$pv" -o jsonpath='{.spec.local.path}')"
  [[ -d "$path" ]] || fail "volume $pv of $pvc has no folder '$path'"
  [[ -n "$(find "$path" -type f -print -quit)" ]] || fail "member $NAME-$i wrote nothing to its volume $path"
  checked=$((checked + 1))
  if grep -rqa -- "$value" "$path"; then leaks+="$pvc "; fi
done
[[ -z "$leaks" ]] || fail "plaintext value found on member volumes: $leaks"

[[ -z "$status_errors" ]] ||
  fail "${status_errors}(status: $(jq -c '{phase, replicas, readyReplicas, commitQuorum, faultTolerance}' <<<"$status")); the rest passed: 5/5 Ready, $placement, etcdctl put/get over TLS via all 5 members, no plaintext on $checked volumes"
pass "5/5 Ready ($placement), W=4, tolerance 1/1/2, Available, leader $leader; etcdctl put/get over TLS via all 5 members; no plaintext on volumes"
