#!/usr/bin/env bash
# scenario: 5 members, threshold 3, nodes in only two zones: condition ZoneLeakRisk=True and an Event
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

NS=e2e-twozones
NAME=twozones
POOL_LABEL=e2e.etsecd.io/pool
operator_ready || fail "no Ready operator pod (scenario 01 did not leave one)"

# Only the nodes of zone-a and zone-b carry the pool label the cluster's nodeSelector asks for: the
# topology spread can then only put the 5 members 3+2 over two zones, and a zone holding 3 = k
# shares would leak every value.
two_zone_nodes="$(kubectl get nodes -l 'topology.kubernetes.io/zone in (zone-a,zone-b)' -o name)"
(($(wc -l <<<"$two_zone_nodes") >= 5)) || fail "need 5 nodes in zone-a and zone-b, have: $(tr '\n' ' ' <<<"$two_zone_nodes")"
# shellcheck disable=SC2086
kubectl label --overwrite $two_zone_nodes "$POOL_LABEL=two-zones" >/dev/null

ensure_ns "$NS"
esc_manifest "$NS" "$NAME" 5 3 "  nodeSelector:
    $POOL_LABEL: two-zones" | kubectl apply -f - >/dev/null || fail "kubectl apply of the two-zone EtsecdCluster failed"

all_scheduled() { [[ "$(placement_summary "$NS" "$NAME")" == *scheduled=5 ]]; }
eventually 90 all_scheduled ||
  fail "5 members not scheduled within 90 s: $(placement_summary "$NS" "$NAME"); pods: $(member_pods "$NS" "$NAME" | tr '\t\n' ' |')"
placement="$(placement_summary "$NS" "$NAME")"
log "placement: $placement"
[[ "$placement" == zones=zone-a:*,zone-b:*" "* && "$placement" != *zone-c* ]] ||
  fail "members landed outside zone-a/zone-b: $placement"
max_zone="$(sed 's/.*max_zone=\([0-9]*\).*/\1/' <<<"$placement")"
((max_zone >= 3)) || fail "test set-up: no zone holds 3 members ($placement)"

leak_true() { [[ "$(condition "$NS" "esc/$NAME" ZoneLeakRisk)" == True ]]; }
eventually 90 leak_true || fail "condition ZoneLeakRisk is not True 90 s after members landed ($placement): $(esc_brief "$NS" "$NAME")"
cond="$(kubectl -n "$NS" get esc "$NAME" -o json | jq -c '.status.conditions[] | select(.type == "ZoneLeakRisk")')"
reason="$(jq -r .reason <<<"$cond")"
message="$(jq -r .message <<<"$cond")"
[[ "$reason" == ZoneHoldsThreshold ]] || fail "ZoneLeakRisk reason is '$reason', expected ZoneHoldsThreshold: $cond"
# The message must name the zone that holds k members.
heavy_zone="$(tr ' ,' '\n\n' <<<"${placement#zones=}" | awk -F: 'NF == 2 && $2 >= 3 {print $1; exit}')"
grep -qF "$heavy_zone" <<<"$message" || fail "ZoneLeakRisk message does not name zone $heavy_zone: $message"

has_event() { esc_events "$NS" "$NAME" | grep -q '^Warning ZoneHoldsThreshold: '; }
eventually 30 has_event || fail "no Warning Event ZoneHoldsThreshold on $NS/$NAME; events: $(esc_events "$NS" "$NAME" | tr '\n' '|')"
events="$(esc_events "$NS" "$NAME" | grep -c '^Warning ZoneHoldsThreshold: ' || true)"

# A cluster spread over three zones (scenario 02) must not be flagged.
if kubectl -n e2e-five get esc demo >/dev/null 2>&1; then
  [[ "$(condition e2e-five esc/demo ZoneLeakRisk)" == False ]] ||
    fail "three-zone cluster e2e-five/demo reports ZoneLeakRisk=$(condition e2e-five esc/demo ZoneLeakRisk)"
fi

# Free the processes for the later scenarios.
kubectl -n "$NS" delete esc "$NAME" --wait=false >/dev/null || true
pass "$placement -> ZoneLeakRisk=True ($reason: $message), $events Warning Event(s)"
