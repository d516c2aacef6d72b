#!/usr/bin/env bash
# scenario: invalid specs are rejected by the API server with the CEL rule's message
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

NS=e2e-invalid
# The CRD normally comes with the chart (scenario 01); install it directly if that did not happen,
# so this scenario tests the CRD even when the operator is broken.
if ! kubectl get crd "$E2E_ESC_GROUP" >/dev/null 2>&1; then
  kubectl apply -f "$E2E_REPO/crds/etsecd.io_etsecdclusters.yaml" >/dev/null
fi
eventually 30 kubectl wait --for=condition=Established "crd/$E2E_ESC_GROUP" --timeout=1s ||
  fail "CRD $E2E_ESC_GROUP not Established"
ensure_ns "$NS"

# rejected NAME REPLICAS THRESHOLD MESSAGE : creating it must fail with MESSAGE and leave nothing.
rejected() {
  local out
  if out="$(esc_manifest "$NS" "$1" "$2" "$3" | kubectl apply -f - 2>&1)"; then
    kubectl -n "$NS" delete esc "$1" --wait=false >/dev/null 2>&1 || true
    fail "replicas=$2 threshold=$3 was accepted by the API server"
  fi
  grep -qF -- "$4" <<<"$out" || fail "replicas=$2 threshold=$3 rejected without the CEL message '$4': $out"
  ! kubectl -n "$NS" get esc "$1" >/dev/null 2>&1 || fail "rejected EtsecdCluster $1 exists anyway"
}
rejected t1 5 1 "threshold must be at least 2 (with threshold 1 every member would hold whole values)"
rejected over 3 4 "threshold must not exceed replicas (k shares are needed to rebuild a value, but only replicas members hold one)"
rejected big 300 3 "replicas must be at most 255 (share indexes are the non-zero values of one byte)"

# Threshold changed on an existing object: needs a real stored object (transition rule on oldSelf).
# Server-side dry-run creates nothing the operator would act on; so use the five-member cluster of
# scenario 02 when it exists, else a fresh object that is deleted again.
if kubectl -n e2e-five get esc demo >/dev/null 2>&1; then
  ns=e2e-five
  name=demo
else
  ns="$NS"
  name=immutable
  esc_manifest "$ns" "$name" 3 2 | kubectl apply -f - >/dev/null || fail "creating a valid EtsecdCluster failed"
  trap 'kubectl -n "$ns" delete esc "$name" --wait=false >/dev/null 2>&1 || true' EXIT
fi
old="$(jp "$ns" "esc/$name" '{.spec.threshold}')"
new=$((old + 1))
msg="threshold is immutable (changing it would need every value to be re-shared)"
for how in patch apply; do
  if [[ "$how" == patch ]]; then
    out="$(kubectl -n "$ns" patch esc "$name" --type merge -p "{\"spec\":{\"threshold\":$new}}" 2>&1)" && accepted=1 || accepted=0
  else
    out="$(esc_manifest "$ns" "$name" "$(jp "$ns" "esc/$name" '{.spec.replicas}')" "$new" | kubectl apply -f - 2>&1)" &&
      accepted=1 || accepted=0
  fi
  ((accepted == 0)) || fail "threshold change $old -> $new by kubectl $how was accepted"
  grep -qF -- "$msg" <<<"$out" || fail "threshold change by kubectl $how rejected without '$msg': $out"
done
[[ "$(jp "$ns" "esc/$name" '{.spec.threshold}')" == "$old" ]] || fail "threshold of $ns/$name changed despite the rejection"

# commitQuorum outside max(floor(n/2)+1, k)..n.
out="$(esc_manifest "$NS" lowq 5 3 "  commitQuorum: 2" | kubectl apply -f - 2>&1)" &&
  fail "commitQuorum 2 with replicas 5 was accepted"
grep -qF "commitQuorum must be between max(floor(replicas/2)+1, threshold) and replicas" <<<"$out" ||
  fail "commitQuorum 2 rejected without the CEL message: $out"

pass "threshold 1, threshold > replicas, replicas 300, commitQuorum 2 and threshold $old -> $new (patch and apply on $ns/$name) all rejected with their CEL messages"
