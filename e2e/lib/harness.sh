# Helpers shared by the e2e scenarios (sourced by e2e/run and by each scenario).
#
# A scenario is a bash script run by e2e/run with the control plane's environment (KUBECONFIG, PATH,
# ETSECD_E2E_DIR) and these variables exported. It ends with `pass SUMMARY` or `fail REASON`; any
# other exit counts as a failure with the last line of its log as the reason.

E2E_OPERATOR_NS="${E2E_OPERATOR_NS:-etsecd-system}"
E2E_RELEASE="${E2E_RELEASE:-etsecd-operator}"
E2E_LEASE="${E2E_LEASE:-etsecd-operator-leader}"
E2E_ESC_GROUP="etsecdclusters.etsecd.io"

pass() {
  [[ -n "${E2E_RESULT_FILE:-}" ]] && printf '%s\n' "$*" >"$E2E_RESULT_FILE"
  echo "scenario passed: $*"
  exit 0
}
fail() {
  [[ -n "${E2E_RESULT_FILE:-}" ]] && printf '%s\n' "$*" >"$E2E_RESULT_FILE"
  echo "scenario failed: $*" >&2
  exit 1
}
log() { echo "[$(date -u +%H:%M:%S)] $*"; }

# eventually SECONDS CMD... : retries CMD every 0.5 s until it succeeds; 1 when time runs out.
eventually() {
  local secs="$1"
  shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# jp NS RESOURCE JSONPATH : one field of one object ("" when the object or field is missing).
jp() { kubectl -n "$1" get "$2" -o jsonpath="$3" 2>/dev/null || true; }

condition() { # NS esc/NAME TYPE -> status of that condition
  jp "$1" "$2" "{.status.conditions[?(@.type==\"$3\")].status}"
}

pod_ready() { [[ "$(jp "$1" "pod/$2" '{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }

# apply_esc NS NAME REPLICAS THRESHOLD [EXTRA-SPEC-YAML-LINES]
esc_manifest() {
  cat <<MANIFEST
apiVersion: etsecd.io/v1alpha1
kind: EtsecdCluster
metadata:
  name: $2
  namespace: $1
spec:
  replicas: $3
  threshold: $4
${5:-}
MANIFEST
}

ensure_ns() { kubectl get ns "$1" >/dev/null 2>&1 || kubectl create ns "$1" >/dev/null; }

# member_pods NS NAME : "pod node ip ready" lines of the cluster's member pods.
member_pods() {
  kubectl -n "$1" get pods -l "app.kubernetes.io/name=etsecd,app.kubernetes.io/instance=$2" -o json |
    jq -r '.items[] | [.metadata.name, (.spec.nodeName // "-"), (.status.podIP // "-"),
      ([.status.conditions[]? | select(.type == "Ready") | .status][0] // "Unknown")] | @tsv'
}

# zone_counts NS NAME : "zone=count" per zone of the cluster's scheduled member pods, and
# node_max: the most members on one node. Prints "zones=<...> max_zone=N max_node=N".
placement_summary() {
  local nodes
  nodes="$(kubectl get nodes -o json | jq -c '[.items[] | {(.metadata.name): (.metadata.labels["topology.kubernetes.io/zone"] // "none")}] | add')"
  kubectl -n "$1" get pods -l "app.kubernetes.io/name=etsecd,app.kubernetes.io/instance=$2" -o json |
    jq -r --argjson zones "$nodes" '
      [.items[] | select(.spec.nodeName) | {node: .spec.nodeName, zone: $zones[.spec.nodeName]}] as $p
      | ($p | group_by(.zone) | map({zone: .[0].zone, n: length})) as $z
      | ($p | group_by(.node) | map(length) | max // 0) as $maxnode
      | "zones=" + ($z | map(.zone + ":" + (.n | tostring)) | join(",")) +
        " max_zone=" + (($z | map(.n) | max // 0) | tostring) + " max_node=" + ($maxnode | tostring) +
        " scheduled=" + ($p | length | tostring)'
}

# operator_pod : name of the Ready (or newest) operator pod.
operator_pod() {
  kubectl -n "$E2E_OPERATOR_NS" get pods -l app.kubernetes.io/name=etsecd-operator \
    --sort-by=.metadata.creationTimestamp -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' |
    tail -n 1
}

operator_ready() {
  local p
  p="$(operator_pod)"
  [[ -n "$p" ]] && pod_ready "$E2E_OPERATOR_NS" "$p"
}

# The agent's log of a pod's container (kubectl logs does not work for agent pods).
pod_log_file() { # NS POD
  ls -t "$ETSECD_E2E_DIR"/agent/pods/"$1"_"$2"_*/*.log 2>/dev/null | head -n 1
}
pod_log_tail() { # NS POD [LINES]
  local f
  f="$(pod_log_file "$1" "$2")"
  [[ -n "$f" ]] && tail -n "${3:-5}" "$f" | tr '\n' '|'
}

# operator_pid POD : pid of the process the agent runs for that operator pod, found by its binary's
# name and its POD_NAME, so nothing but that one process is ever signalled.
operator_pid() {
  local pod="$1" exe pid
  for d in /proc/[0-9]*; do
    exe="$(readlink "$d/exe" 2>/dev/null)" || continue
    # The agent runs a staged copy of the binary (e2e/control-plane/up), so match on its name.
    [[ "$(basename "$exe")" == *"$(basename "$E2E_OPERATOR_BIN")" ]] || continue
    if tr '\0' '\n' <"$d/environ" 2>/dev/null | grep -qx "POD_NAME=$pod"; then
      pid="${d#/proc/}"
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# etcdctl_tls NS NAME ARGS... : runs etcdctl against the cluster's members with the client
# certificate from the operator's <name>-client-tls Secret. Members are named by their DNS names
# (which their server certificates carry), resolved through the e2e agent's hosts file in a private
# mount namespace, the same way the member processes themselves resolve them.
etcdctl_tls() {
  local ns="$1" name="$2"
  shift 2
  local tls
  tls="$(mktemp -d "${TMPDIR:-/tmp}/etsecd-e2e-tls.XXXXXX")"
  local k
  for k in ca.crt tls.crt tls.key; do
    kubectl -n "$ns" get secret "$name-client-tls" -o json |
      jq -r --arg k "$k" '.data[$k] // empty' | base64 -d >"$tls/$k" 2>/dev/null
    if [[ ! -s "$tls/$k" ]]; then
      echo "secret $ns/$name-client-tls has no $k" >&2
      rm -rf "$tls"
      return 2
    fi
  done
  local endpoints="${E2E_ETCD_ENDPOINTS:-}"
  if [[ -z "$endpoints" ]]; then
    local replicas i
    replicas="$(jp "$ns" "esc/$name" '{.spec.replicas}')"
    for ((i = 0; i < replicas; i++)); do
      endpoints+="${endpoints:+,}https://$name-$i.$name-peer.$ns.svc:2379"
    done
  fi
  local rc=0
  unshare --mount --propagation private -- sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
    sh "$ETSECD_E2E_DIR/agent/hosts" \
    env ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --cacert="$tls/ca.crt" --cert="$tls/tls.crt" \
    --key="$tls/tls.key" --dial-timeout=5s --command-timeout=10s "$@" || rc=$?
  rm -rf "$tls"
  return "$rc"
}

# owned_objects NS UID : "kind/name uid" of every object in NS whose ownerReferences name UID.
owned_objects() {
  kubectl -n "$1" get statefulsets,services,poddisruptionbudgets,secrets,configmaps,persistentvolumeclaims,pods \
    -o json | jq -r --arg uid "$2" \
    '.items[] | select([.metadata.ownerReferences[]?.uid] | index($uid)) | "\(.kind)/\(.metadata.name) \(.metadata.uid)"'
}

# event_summary NS NAME : the EtsecdCluster's Events as "type reason: message" lines.
esc_events() {
  kubectl -n "$1" get events -o json | jq -r --arg n "$2" \
    '.items[] | select(.involvedObject.kind == "EtsecdCluster" and .involvedObject.name == $n)
     | "\(.type) \(.reason): \(.message)"'
}

# A one-line picture of a cluster for failure messages.
esc_brief() { # NS NAME
  local s
  s="$(kubectl -n "$1" get esc "$2" -o json 2>/dev/null | jq -c '{phase: .status.phase,
    replicas: .status.replicas, ready: .status.readyReplicas, W: .status.commitQuorum,
    conditions: [.status.conditions[]? | "\(.type)=\(.status)(\(.reason // ""))"]}' 2>/dev/null)"
  echo "${s:-<no status: EtsecdCluster $1/$2 missing or unreadable>}"
}
