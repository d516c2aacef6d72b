#!/usr/bin/env bash
# scripts/bench etcd-compare: a 5-member etsecd (k=3) and a 5-member etcd (Debian etcd-server), both on
# loopback with TLS and fsync on, driven by the same load generator (tools/kvload, the official etcd Go
# client) in one run: put and linearizable get latency at 1 client, put throughput at 64 clients,
# `etcdctl check perf --load=m`, and the data-directory size of each after the same run. It also prints
# the members' CPU time per operation for each load (user + system, all 5 processes): unlike the
# latencies, those figures hardly move when other work shares the machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

work="$(mktemp -d "${TMPDIR:-/tmp}/etsecd-bench.XXXXXX")"
etcd_pids=()
cleanup() {
  scripts/local-cluster down --dir "$work/etsecd" >/dev/null 2>&1 || true
  for p in "${etcd_pids[@]+"${etcd_pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ONE=${BENCH_ONE_CLIENT_OPS:-2000}
MANY=${BENCH_MANY_CLIENT_OPS:-20000}
VALUE=${BENCH_VALUE_SIZE:-256}

echo "building kvload" >&2
(cd tools/kvload && go build -o "$work/kvload" .)

certs="$work/certs"
scripts/gen-certs --dir "$certs" e1 e2 e3 e4 e5 >/dev/null

# --- etcd: 5 members, TLS for clients and peers, default fsync.
# Ports below the kernel's ephemeral range (32768+), so an outgoing connection cannot hold one.
etcd_base=22379
etcd_cluster=""
for i in 1 2 3 4 5; do etcd_cluster+="${etcd_cluster:+,}e$i=https://127.0.0.1:$((etcd_base + 10 * i + 1))"; done
for i in 1 2 3 4 5; do
  c=$((etcd_base + 10 * i)) p=$((etcd_base + 10 * i + 1))
  etcd --name "e$i" --data-dir "$work/etcd/e$i" \
    --listen-client-urls "https://127.0.0.1:$c" --advertise-client-urls "https://127.0.0.1:$c" \
    --listen-peer-urls "https://127.0.0.1:$p" --initial-advertise-peer-urls "https://127.0.0.1:$p" \
    --initial-cluster "$etcd_cluster" --initial-cluster-state new --initial-cluster-token bench \
    --cert-file "$certs/e$i-server.pem" --key-file "$certs/e$i-server-key.pem" --trusted-ca-file "$certs/ca.pem" \
    --client-cert-auth --peer-cert-file "$certs/e$i-peer.pem" --peer-key-file "$certs/e$i-peer-key.pem" \
    --peer-trusted-ca-file "$certs/ca.pem" --peer-client-cert-auth >"$work/etcd-e$i.log" 2>&1 &
  etcd_pids+=($!)
done
etcd_eps=""
for i in 1 2 3 4 5; do etcd_eps+="${etcd_eps:+,}https://127.0.0.1:$((etcd_base + 10 * i))"; done
etcd_tls=(--cacert="$certs/ca.pem" --cert="$certs/client.pem" --key="$certs/client-key.pem")

# --- etsecd: 5 members, k=3, through the same script users run.
scripts/local-cluster up --members 5 --threshold 3 --dir "$work/etsecd" --base-port 23379 >"$work/etsecd-up.log"
etsecd_certs="$work/etsecd/certs"
etsecd_eps=""
for i in 1 2 3 4 5; do etsecd_eps+="${etsecd_eps:+,}https://127.0.0.1:$((23379 + 10 * (i - 1)))"; done
etsecd_tls=(--cacert="$etsecd_certs/ca.pem" --cert="$etsecd_certs/client.pem" --key="$etsecd_certs/client-key.pem")

wait_healthy() {  # ENDPOINTS TLS...
  local eps=$1
  shift
  for _ in $(seq 1 100); do
    if ETCDCTL_API=3 etcdctl --endpoints="$eps" "$@" endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "cluster at $eps did not become healthy" >&2
  return 1
}
wait_healthy "$etcd_eps" "${etcd_tls[@]}"
wait_healthy "$etsecd_eps" "${etsecd_tls[@]}"

kv() {  # SYSTEM ARGS... -> the RESULT line
  local sys=$1
  shift
  local eps
  if [[ $sys == etcd ]]; then eps=$etcd_eps; else eps=$etsecd_eps; fi
  local certdir=$certs
  [[ $sys == etsecd ]] && certdir=$etsecd_certs
  "$work/kvload" -endpoints="$eps" -cacert="$certdir/ca.pem" -cert="$certdir/client.pem" \
    -key="$certdir/client-key.pem" -value-size="$VALUE" "$@" | grep '^RESULT'
}
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$2"; }

member_pids() {  # SYSTEM -> the pids of its 5 member processes
  if [[ $1 == etcd ]]; then
    echo "${etcd_pids[@]}"
  else
    cat "$work"/etsecd/m[1-5]/pid
  fi
}
cpu_ticks() {  # PIDS... -> user + system clock ticks, summed
  local total=0 p
  for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$total"
}

# Runs one load on SYSTEM and records its RESULT line in R[SYSTEM.NAME] and the members' CPU time per
# operation in CPU[SYSTEM.NAME] (ms). At one client the latencies are CPU-bound on a 2-core machine, so
# the CPU figures show where a latency gap comes from even on a day when the latencies are noisy.
measure() {  # SYSTEM NAME OPS KVLOAD-ARGS...
  local sys=$1 name=$2 ops=$3
  shift 3
  local before after
  # shellcheck disable=SC2046
  before=$(cpu_ticks $(member_pids "$sys"))
  R[$sys.$name]=$(kv "$sys" -total="$ops" "$@")
  # shellcheck disable=SC2046
  after=$(cpu_ticks $(member_pids "$sys"))
  CPU[$sys.$name]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$ops" \
    'BEGIN { printf "%.3f", t / hz * 1000 / n }')
}

declare -A R CPU
for sys in etcd etsecd; do
  echo "== $sys" >&2
  measure "$sys" put1 "$ONE" -op=put -clients=1 -prefix="/bench/put1/"
  measure "$sys" get1 "$ONE" -op=get -clients=1 -keys=100 -prefix="/bench/get1/"
  measure "$sys" put64 "$MANY" -op=put -clients=64 -prefix="/bench/put64/"
  for k in put1 get1 put64; do echo "  $k: ${R[$sys.$k]} (members' CPU per op ${CPU[$sys.$k]} ms)" >&2; done
done

perf() {  # ENDPOINTS TLS... -> "PASS <w/s>" or "FAIL <w/s>"
  local eps=$1
  shift
  local out
  # Its progress bar redraws with carriage returns; keep only the verdict lines.
  out=$(ETCDCTL_API=3 etcdctl --endpoints="$eps" "$@" check perf --load=m 2>&1 | tr '\r' '\n' || true)
  grep -E 'PASS|FAIL|Slowest|Stddev|Throughput|took' <<<"$out" | sed 's/^ */    /' >&2
  local verdict=FAIL
  grep -q '^PASS' <<<"$(grep -E '^(PASS|FAIL)' <<<"$out" | tail -1)" && verdict=PASS
  local tput
  tput=$(grep -oE '[0-9]+ writes/s' <<<"$out" | head -1 | grep -oE '[0-9]+' || echo 0)
  echo "$verdict ${tput:-0}"
}
echo "== etcdctl check perf --load=m: etcd" >&2
etcd_perf=$(perf "$etcd_eps" "${etcd_tls[@]}")
echo "== etcdctl check perf --load=m: etsecd" >&2
etsecd_perf=$(perf "$etsecd_eps" "${etsecd_tls[@]}")

etcd_bytes=$(du -sb "$work/etcd" | cut -f1)
etsecd_bytes=0
for i in 1 2 3 4 5; do etsecd_bytes=$((etsecd_bytes + $(du -sb "$work/etsecd/m$i/data" | cut -f1))); done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f", a / b }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

e_put50=$(field p50_ms "${R[etcd.put1]}") s_put50=$(field p50_ms "${R[etsecd.put1]}")
e_put99=$(field p99_ms "${R[etcd.put1]}") s_put99=$(field p99_ms "${R[etsecd.put1]}")
e_get50=$(field p50_ms "${R[etcd.get1]}") s_get50=$(field p50_ms "${R[etsecd.get1]}")
e_get99=$(field p99_ms "${R[etcd.get1]}") s_get99=$(field p99_ms "${R[etsecd.get1]}")
e_tput=$(field ops_per_s "${R[etcd.put64]}") s_tput=$(field ops_per_s "${R[etsecd.put64]}")

printf '\n%-34s %12s %12s %10s\n' "metric" "etcd" "etsecd" "ratio"
printf '%-34s %12s %12s %10s\n' "put p50 ms (1 client)" "$e_put50" "$s_put50" "$(ratio "$s_put50" "$e_put50")"
printf '%-34s %12s %12s %10s\n' "put p99 ms (1 client)" "$e_put99" "$s_put99" "$(ratio "$s_put99" "$e_put99")"
printf '%-34s %12s %12s %10s\n' "linearizable get p50 ms (1 client)" "$e_get50" "$s_get50" "$(ratio "$s_get50" "$e_get50")"
printf '%-34s %12s %12s %10s\n' "linearizable get p99 ms (1 client)" "$e_get99" "$s_get99" "$(ratio "$s_get99" "$e_get99")"
printf '%-34s %12s %12s %10s\n' "put throughput ops/s (64 clients)" "$e_tput" "$s_tput" "$(ratio "$s_tput" "$e_tput")"
cpu_row() {  # LABEL NAME
  printf '%-34s %12s %12s %10s\n' "$1" "${CPU[etcd.$2]}" "${CPU[etsecd.$2]}" "$(ratio "${CPU[etsecd.$2]}" "${CPU[etcd.$2]}")"
}
cpu_row "members' CPU ms per put (1 client)" put1
cpu_row "members' CPU ms per get (1 client)" get1
cpu_row "members' CPU ms per put (64 cl.)" put64
printf '%-34s %12s %12s\n' "check perf --load=m" "$etcd_perf" "$etsecd_perf"
printf '%-34s %12s %12s %10s\n' "data dir bytes (all members)" "$etcd_bytes" "$etsecd_bytes" "$(ratio "$etsecd_bytes" "$etcd_bytes")"
echo
echo "RESULT put_p50_delta_vs_etcd $(diff_ms "$s_put50" "$e_put50") ms"
echo "RESULT put_p50_ratio_vs_etcd $(ratio "$s_put50" "$e_put50") x"
echo "RESULT put_p99_ratio_vs_etcd $(ratio "$s_put99" "$e_put99") x"
echo "RESULT get_p50_ratio_vs_etcd $(ratio "$s_get50" "$e_get50") x"
echo "RESULT get_p99_ratio_vs_etcd $(ratio "$s_get99" "$e_get99") x"
echo "RESULT put_throughput_ratio_vs_etcd $(ratio "$s_tput" "$e_tput") x"
echo "RESULT put_cpu_per_op_ratio_vs_etcd $(ratio "${CPU[etsecd.put64]}" "${CPU[etcd.put64]}") x"
echo "RESULT put1_cpu_per_op_ratio_vs_etcd $(ratio "${CPU[etsecd.put1]}" "${CPU[etcd.put1]}") x"
echo "RESULT get1_cpu_per_op_ratio_vs_etcd $(ratio "${CPU[etsecd.get1]}" "${CPU[etcd.get1]}") x"
echo "RESULT etsecd_check_perf_m_writes_per_s $(cut -d' ' -f2 <<<"$etsecd_perf") ops/s"
echo "RESULT etcd_check_perf_m_writes_per_s $(cut -d' ' -f2 <<<"$etcd_perf") ops/s"
echo "RESULT etsecd_check_perf_m_pass $([[ $etsecd_perf == PASS* ]] && echo 1 || echo 0) bool"
echo "RESULT data_dir_ratio_vs_etcd $(ratio "$etsecd_bytes" "$etcd_bytes") x"
