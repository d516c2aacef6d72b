#!/usr/bin/env bash
# helm lint and helm template of charts/etsecd-operator with the value combinations users set, checking
# the rendered kinds and that an unsafe combination is refused. Usage: helm_chart_test.sh HELM CHART_DIR
set -euo pipefail
helm=$1
chart=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
kinds() { grep -E '^kind: ' | sed 's/kind: //' | sort | tr '\n' ' '; }

"$helm" lint "$chart" >/dev/null || fail "helm lint (defaults)"
"$helm" lint "$chart" --set 'watchNamespaces={a,b}' >/dev/null || fail "helm lint (watchNamespaces)"

all=$("$helm" template rel "$chart" -n ops)
got=$(kinds <<<"$all")
want="ClusterRole ClusterRole ClusterRoleBinding ClusterRoleBinding Deployment Role RoleBinding Service ServiceAccount "
[[ "$got" == "$want" ]] || fail "default kinds: got '$got' want '$want'"
grep -q 'image: "etsecd/etsecd-operator:0.1.0"' <<<"$all" || fail "image tag does not default to appVersion"
grep -q -- '--leader-elect=true' <<<"$all" || fail "leader election flag"
grep -q -- '--metrics-bind-address=:8080' <<<"$all" || fail "metrics flag"

scoped=$("$helm" template rel "$chart" -n ops --set 'watchNamespaces={a,b}')
got=$(kinds <<<"$scoped")
want="ClusterRole ClusterRoleBinding Deployment Role Role Role RoleBinding RoleBinding RoleBinding Service ServiceAccount "
[[ "$got" == "$want" ]] || fail "namespaced kinds: got '$got' want '$want'"
grep -q -- '--watch-namespaces=a,b' <<<"$scoped" || fail "watch namespaces flag"

quiet=$("$helm" template rel "$chart" -n ops --set metrics.enabled=false --set image.tag=9.9.9)
grep -q 'image: "etsecd/etsecd-operator:9.9.9"' <<<"$quiet" || fail "image tag override"
grep -q 'kind: Service$' <<<"$quiet" && fail "metrics Service rendered with metrics disabled"
grep -q -- '--metrics-bind-address=0' <<<"$quiet" || fail "metrics disabled flag"

if "$helm" template rel "$chart" --set leaderElection.enabled=false >/dev/null 2>&1; then
  fail "two replicas without leader election must be refused"
fi
"$helm" template rel "$chart" --set leaderElection.enabled=false --set replicas=1 >/dev/null ||
  fail "one replica without leader election is fine"

[[ "$("$helm" show crds "$chart")" == "$(cat "$chart/../../crds/etsecd.io_etsecdclusters.yaml")" ]] ||
  fail "chart CRD differs from crds/"
echo "helm chart: all checks passed"
