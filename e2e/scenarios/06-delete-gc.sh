#!/usr/bin/env bash
# scenario: deleting an EtsecdCluster garbage-collects everything it owned; member volumes are kept
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

NS=e2e-five
NAME=demo
if ! kubectl -n "$NS" get esc "$NAME" >/dev/null 2>&1; then
  # Scenario 02 left nothing: make a cluster of our own and wait for its objects.
  operator_ready || fail "no EtsecdCluster $NS/$NAME and no Ready operator to make one"
  ensure_ns "$NS"
  esc_manifest "$NS" "$NAME" 3 2 | kubectl apply -f - >/dev/null || fail "kubectl apply failed"
  has_sts() { kubectl -n "$NS" get sts "$NAME" >/dev/null 2>&1; }
  eventually 60 has_sts || fail "operator made no StatefulSet for $NS/$NAME in 60 s: $(esc_brief "$NS" "$NAME")"
fi
uid="$(jp "$NS" "esc/$NAME" '{.metadata.uid}')"
sts_uid="$(jp "$NS" "sts/$NAME" '{.metadata.uid}')"
owned="$(owned_objects "$NS" "$uid")"
grandchildren="$( [[ -n "$sts_uid" ]] && owned_objects "$NS" "$sts_uid" || true)"
for want in "StatefulSet/$NAME" "Service/$NAME" "Service/$NAME-peer" "PodDisruptionBudget/$NAME" \
  "Secret/$NAME-ca" "Secret/$NAME-member-tls" "Secret/$NAME-client-tls"; do
  grep -q "^$want " <<<"$owned" || fail "$want is not owned by EtsecdCluster $NAME (owned: $(awk '{print $1}' <<<"$owned" | tr '\n' ' '))"
done
pod_ips="$(member_pods "$NS" "$NAME" | awk '$3 != "-" {print $3}')"
pvcs="$(kubectl -n "$NS" get pvc -o name | grep "/data-$NAME-" || true)"
log "owned: $(awk '{print $1}' <<<"$owned" | tr '\n' ' '); via the StatefulSet: $(awk '{print $1}' <<<"$grandchildren" | tr '\n' ' ')"

kubectl -n "$NS" delete esc "$NAME" --wait=false >/dev/null
still_there() { # "kind/name uid" lines -> those whose object with that uid still exists
  local kind_name u
  while read -r kind_name u; do
    [[ -n "$kind_name" ]] || continue
    [[ "$(kubectl -n "$NS" get "$kind_name" -o jsonpath='{.metadata.uid}' 2>/dev/null)" == "$u" ]] && echo "$kind_name"
  done
  return 0
}
all_gone() {
  ! kubectl -n "$NS" get esc "$NAME" >/dev/null 2>&1 &&
    [[ -z "$(printf '%s\n%s\n' "$owned" "$grandchildren" | still_there)" ]] &&
    [[ -z "$(member_pods "$NS" "$NAME")" ]]
}
if ! eventually 90 all_gone; then
  left="$(printf '%s\n%s\n' "$owned" "$grandchildren" | still_there | tr '\n' ' ')"
  fail "90 s after deleting $NS/$NAME still present: ${left:-nothing owned}; esc exists: $(kubectl -n "$NS" get esc "$NAME" -o name 2>&1); member pods: $(member_pods "$NS" "$NAME" | tr '\t\n' ' |')"
fi
# The operator must not re-create anything for the deleted cluster.
sleep 3
recreated="$(kubectl -n "$NS" get statefulsets,services,poddisruptionbudgets,secrets,pods -l "app.kubernetes.io/instance=$NAME" -o name 2>/dev/null | tr '\n' ' ')"
[[ -z "$recreated" ]] || fail "objects re-created after the deletion: $recreated"
# The member processes are gone, not just their pods.
for ip in $pod_ips; do
  if (exec 3<>"/dev/tcp/$ip/2379") 2>/dev/null; then fail "a member still listens at $ip:2379"; fi
done
# Volumes hold shares: the operator never deletes them on its own (PVC retention Retain).
kept=0
for p in $pvcs; do kubectl -n "$NS" get "$p" >/dev/null 2>&1 && kept=$((kept + 1)); done
((kept == $(grep -c . <<<"$pvcs"))) || fail "member PVCs deleted: only $kept of $(grep -c . <<<"$pvcs") left"

pass "$(grep -c . <<<"$owned") owned + $(grep -c . <<<"$grandchildren" || true) StatefulSet-owned objects collected, member processes stopped, $kept PVCs retained"
