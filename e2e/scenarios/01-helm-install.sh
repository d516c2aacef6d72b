#!/usr/bin/env bash
# scenario: helm install the chart; the operator pod becomes Ready and holds the leader Lease
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

[[ -x "$E2E_OPERATOR_BIN" ]] || fail "operator binary $E2E_OPERATOR_BIN does not exist (not built)"

# One replica: every agent-run process shares the host's loopback, and the chart binds the metrics
# port on all addresses, so a second replica would find the port taken. Leader election stays on.
log "helm install"
if ! out="$(helm install "$E2E_RELEASE" "$E2E_REPO/charts/etsecd-operator" -n "$E2E_OPERATOR_NS" \
  --create-namespace --set image.repository="$E2E_OPERATOR_IMAGE_REPO" --set image.tag=e2e \
  --set memberImage.repository="$E2E_NODE_IMAGE_REPO" --set replicas=1 \
  --set metrics.port="$E2E_OPERATOR_METRICS_PORT" --timeout 60s 2>&1)"; then
  fail "helm install failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
fi
echo "$out"

crd_established() {
  [[ "$(jp default "crd/$E2E_ESC_GROUP" '{.status.conditions[?(@.type=="Established")].status}')" == True ]]
}
eventually 30 crd_established || fail "CRD $E2E_ESC_GROUP not Established after helm install"

if ! eventually 60 operator_ready; then
  pod="$(operator_pod)"
  [[ -n "$pod" ]] || fail "no operator pod exists 60 s after helm install: $(kubectl -n "$E2E_OPERATOR_NS" get deploy,rs -o wide 2>&1 | tr '\n' '|')"
  fail "operator pod $pod not Ready after 60 s: state $(jp "$E2E_OPERATOR_NS" "pod/$pod" '{.status.containerStatuses[0].state}') restarts $(jp "$E2E_OPERATOR_NS" "pod/$pod" '{.status.containerStatuses[0].restartCount}'); log: $(pod_log_tail "$E2E_OPERATOR_NS" "$pod" 4)"
fi
pod="$(operator_pod)"
ip="$(jp "$E2E_OPERATOR_NS" "pod/$pod" '{.status.podIP}')"
log "operator pod $pod Ready at $ip"

holder() { jp "$E2E_OPERATOR_NS" "lease/$E2E_LEASE" '{.spec.holderIdentity}'; }
holds_lease() { local h; h="$(holder)"; [[ "$h" == "$pod" || "$h" == "$pod"_* ]]; }
eventually 30 holds_lease ||
  fail "Lease $E2E_OPERATOR_NS/$E2E_LEASE holder is '$(holder)', expected operator pod $pod (lease: $(kubectl -n "$E2E_OPERATOR_NS" get lease "$E2E_LEASE" -o jsonpath='{.spec}' 2>&1))"

# The lease must be alive: renewed within its duration.
renew="$(jp "$E2E_OPERATOR_NS" "lease/$E2E_LEASE" '{.spec.renewTime}')"
duration="$(jp "$E2E_OPERATOR_NS" "lease/$E2E_LEASE" '{.spec.leaseDurationSeconds}')"
[[ -n "$renew" && -n "$duration" ]] || fail "Lease has no renewTime/leaseDurationSeconds: $(jp "$E2E_OPERATOR_NS" "lease/$E2E_LEASE" '{.spec}')"
age=$(($(date +%s) - $(date -d "$renew" +%s)))
((age <= duration)) || fail "Lease renewTime $renew is ${age} s old, beyond its ${duration} s duration"

# Its /healthz and /metrics answer on the pod IP (that is what the readiness probe used too).
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ip:$E2E_OPERATOR_METRICS_PORT/healthz" || true)"
[[ "$code" == 200 ]] || fail "operator /healthz at $ip:$E2E_OPERATOR_METRICS_PORT answered '$code'"
curl -sf --max-time 5 "http://$ip:$E2E_OPERATOR_METRICS_PORT/metrics" | grep -q '^etsecd' ||
  fail "operator /metrics at $ip:$E2E_OPERATOR_METRICS_PORT has no etsecd metric"

pass "operator pod $pod Ready at $ip, holds Lease $E2E_LEASE (renewed ${age} s ago), /healthz 200, /metrics served"
