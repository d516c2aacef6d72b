#!/usr/bin/env bash
# scenario: 3 members k=2 scaled to 5 (learner, then promote, one at a time), then a member whose volume was lost is replaced; data stays readable
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

NS=e2e-scale
NAME=demo
K=2
operator_ready || fail "no Ready operator pod (scenario 01 did not leave one)"
ensure_ns "$NS"
t_start=$SECONDS
esc_manifest "$NS" "$NAME" 3 "$K" | kubectl apply -f - >/dev/null || fail "kubectl apply of a 3-member EtsecdCluster failed"

ready_running() { # N: N Ready members, phase Running, Available
  [[ "$(jp "$NS" "esc/$NAME" '{.status.readyReplicas}/{.status.phase}')" == "$1/Running" &&
    "$(condition "$NS" "esc/$NAME" Available)" == True ]]
}
if ! eventually 150 ready_running 3; then
  fail "3 members not Ready and Running after 150 s: $(esc_brief "$NS" "$NAME"); pods: $(member_pods "$NS" "$NAME" | tr '\t\n' ' |')"
fi
log "3 members Ready after $((SECONDS - t_start)) s"

# Data goes through members 0 and 2 (member 1 is the one replaced below).
stable_endpoints="https://$NAME-0.$NAME-peer.$NS.svc:2379,https://$NAME-2.$NAME-peer.$NS.svc:2379"
ctl() { E2E_ETCD_ENDPOINTS="$stable_endpoints" etcdctl_tls "$NS" "$NAME" "$@"; }
declare -A written=()
writes=0
put_get_error=""
put_get() { # writes a new key and reads it back; both must work at every point of the scenario
  local key="/e2e/scale/$writes" value out
  value="v$writes-$(openssl rand -hex 8)"
  out="$(ctl put "$key" "$value" 2>&1)" || { put_get_error="put $key: $out"; return 1; }
  out="$(ctl get "$key" --print-value-only 2>&1)" || { put_get_error="get $key: $out"; return 1; }
  [[ "$out" == "$value" ]] || { put_get_error="get $key returned '$out'"; return 1; }
  written[$key]="$value"
  writes=$((writes + 1))
}
put_get_retrying() { # one short retry: a leader change costs an election timeout, not an error
  put_get && return 0
  local first="$put_get_error"
  sleep 2
  put_get || fail "etcdctl put/get failed during the change: $first, then $put_get_error; $(esc_brief "$NS" "$NAME")"
}
# Voters and learners as the cluster itself reports them: "voters learners".
# (The simple output: "ID, status, name, peer URLs, client URLs, is-learner", IDs in hexadecimal; JSON
# would print them as numbers that jq rounds.)
member_counts() {
  local out
  out="$(ctl member list 2>/dev/null)" || return 1
  awk -F', ' '$6 == "true" {l++} $6 == "false" {v++} END {print v + 0, l + 0}' <<<"$out"
}
member_field() { # NAME FIELD(1=ID, 6=is-learner) of the member whose pod is NAME (by its peer URL)
  ctl member list 2>/dev/null | awk -F', ' -v url="https://$1.$NAME-peer.$NS.svc" -v f="$2" 'index($4, url) == 1 {print $f}'
}
states=""
observe() { # records each new (voters, learners) state; the threshold and the one-change rule hold
  local c v l
  c="$(member_counts)" || return 0
  [[ -n "$c" ]] || return 0
  read -r v l <<<"$c"
  ((v >= K)) || fail "only $v voters: below the threshold k=$K"
  ((l <= 1)) || fail "$l learners at once: more than one membership change in flight"
  [[ "$states" == *"[$v/$l]" ]] || states+="[$v/$l]"
}
for _ in $(seq 1 20); do put_get_retrying; done
observe

# --- scale 3 -> 5 --------------------------------------------------------------------------------
t_scale=$SECONDS
kubectl -n "$NS" scale esc "$NAME" --replicas=5 >/dev/null || fail "kubectl scale esc --replicas=5 failed"
until ready_running 5 && [[ "$(member_counts)" == "5 0" ]]; do
  ((SECONDS - t_scale < 180)) ||
    fail "not 5 Ready voters 180 s after scaling: $(esc_brief "$NS" "$NAME"); states seen $states; pods: $(member_pods "$NS" "$NAME" | tr '\t\n' ' |')"
  observe
  put_get_retrying
  sleep 1
done
observe
scale_seconds=$((SECONDS - t_scale))
# Each new member was a learner first and became a voter on its own: 3/0 -> 3/1 -> 4/0 -> 4/1 -> 5/0.
[[ "$states" == "[3/0]"*"[5/0]" ]] || fail "member states seen while scaling: $states"
for s in "[3/1]" "[4/1]"; do
  [[ "$states" == *"$s"* ]] || log "note: state $s (voters/learners) passed between two observations"
done
shares="$(kubectl -n "$NS" get esc "$NAME" -o json | jq -r '[.status.members[].shareIndex] | sort | map(tostring) | join(",")')"
[[ "$shares" == 1,2,3,4,5 ]] || fail "share indexes after scaling are '$shares', expected 1,2,3,4,5"
log "scaled to 5 in $scale_seconds s (voters/learners seen: $states), $writes writes"
states_scale="$states"
states=""

# --- replace a member whose volume was lost ------------------------------------------------------
victim="$NAME-1"
old_id="$(member_field "$victim" 1)"
[[ -n "$old_id" ]] || fail "no member $victim in the member list"
old_pvc_uid="$(jp "$NS" "pvc/data-$victim" '{.metadata.uid}')"
t_replace=$SECONDS
kubectl -n "$NS" delete pvc "data-$victim" --wait=false >/dev/null || fail "cannot delete pvc data-$victim"
kubectl -n "$NS" delete pod "$victim" --wait=true --timeout=60s >/dev/null || fail "cannot delete pod $victim"
# Until the old claim is gone, a recreated pod may wait for it; deleting that pod again lets the
# StatefulSet make a new claim (what an administrator does after losing a disk).
fresh_pvc() {
  local uid
  uid="$(jp "$NS" "pvc/data-$victim" '{.metadata.uid}')"
  [[ -n "$uid" && "$uid" != "$old_pvc_uid" ]]
}
until fresh_pvc; do
  ((SECONDS - t_replace < 60)) || fail "no new claim data-$victim 60 s after deleting the old one"
  if [[ -z "$(jp "$NS" "pvc/data-$victim" '{.metadata.uid}')" ]] &&
    [[ "$(jp "$NS" "pod/$victim" '{.status.phase}')" == Pending ]]; then
    kubectl -n "$NS" delete pod "$victim" --wait=false >/dev/null 2>&1 || true
  fi
  sleep 1
done
replaced() {
  local id learner
  id="$(member_field "$victim" 1)"
  learner="$(member_field "$victim" 6)"
  [[ -n "$id" && "$id" != "$old_id" && "$learner" == false ]] && ready_running 5
}
refused=0
until replaced; do
  ((SECONDS - t_replace < 180)) ||
    fail "$victim not replaced 180 s after its volume was deleted: $(esc_brief "$NS" "$NAME"); its log: $(pod_log_tail "$NS" "$victim" 4)"
  observe
  put_get_retrying
  sleep 1
done
replace_seconds=$((SECONDS - t_replace))
log="$(cat "$(pod_log_file "$NS" "$victim")" 2>/dev/null || true)"
# The agent keeps one log per pod: the refusing start and the join after the re-add are in it.
[[ "$log" == *"refusing to start"* ]] && refused=1
((refused)) || fail "$victim's log has no refused start on the empty volume: $(pod_log_tail "$NS" "$victim" 4)"
events="$(esc_events "$NS" "$NAME")"
grep -q "MemberDataLost" <<<"$events" || fail "no MemberDataLost Event: $events"
new_x="$(kubectl -n "$NS" get esc "$NAME" -o json | jq -r --arg n "$victim" '.status.members[] | select(.name == $n) | .shareIndex')"
[[ "$new_x" == 6 ]] || fail "$victim's share index after the replacement is '$new_x', expected a fresh one (6)"

# Every value written so far reads back, through every member on its own (the replacement included).
for i in 0 1 2 3 4; do
  for key in "${!written[@]}"; do
    got="$(E2E_ETCD_ENDPOINTS="https://$NAME-$i.$NAME-peer.$NS.svc:2379" etcdctl_tls "$NS" "$NAME" get "$key" --print-value-only 2>&1)" ||
      fail "get $key through $NAME-$i failed: $got"
    [[ "$got" == "${written[$key]}" ]] || fail "get $key through $NAME-$i returned '$got', expected '${written[$key]}'"
  done
done
kubectl delete ns "$NS" --wait=false >/dev/null 2>&1 || true
((${#written[@]} >= 20)) || fail "only ${#written[@]} values written"
pass "3->5 in ${scale_seconds} s (voters/learners $states_scale), $victim replaced in ${replace_seconds} s (member $old_id removed, its empty start refused, re-added with share index 6; voters/learners $states); ${#written[@]} values read back through all 5 members; total $((SECONDS - t_start)) s"
