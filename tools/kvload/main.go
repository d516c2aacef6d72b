// kvload drives an etcd-v3-compatible cluster with the official etcd Go client (clientv3) and reports
// latency percentiles and throughput, the same way for etcd and for etsecd so the two can be compared
// in one run. With -history it also records every operation for the lincheck linearizability checker.
//
//	kvload -endpoints=https://127.0.0.1:2379 -cacert=ca.pem -cert=c.pem -key=c-key.pem \
//	       -op=put -clients=64 -total=20000 -value-size=256
//
// With -rate the load is open-loop like `etcdctl check perf`: one generator hands out at most -rate
// operations per second (a missed slot is lost, not made up) to -clients workers, so a slow server or
// a starved client shows as lost throughput. -timeline prints, per second of the run, how many
// operations started and their latencies, and the slowest operations with their start times: that
// tells a slow first second (connection set-up) from a slow steady state.
//
// Output: human lines, then one machine-readable line per run:
//
//	RESULT op=put clients=64 total=20000 errors=0 seconds=3.2 ops_per_s=6250.0 p50_ms=9.1 p99_ms=21.3
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

type historyRecord struct {
	Client    int    `json:"client"`
	Op        string `json:"op"`
	Key       string `json:"key"`
	Value     string `json:"value,omitempty"`
	Expect    string `json:"expect,omitempty"`
	Found     bool   `json:"found,omitempty"`
	Succeeded bool   `json:"succeeded,omitempty"`
	Call      int64  `json:"call"`
	Return    int64  `json:"return"`
	Status    string `json:"status"`
}

func tlsConfig(ca, cert, key string) (*tls.Config, error) {
	if ca == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificates in %s", ca)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000.0
}

func main() {
	endpoints := flag.String("endpoints", "http://127.0.0.1:2379", "comma-separated client URLs")
	ca := flag.String("cacert", "", "CA bundle (enables TLS)")
	cert := flag.String("cert", "", "client certificate")
	key := flag.String("key", "", "client key")
	op := flag.String("op", "put", "put | get | mixed (put/get/cas on a small key set, for -history)")
	clients := flag.Int("clients", 1, "concurrent clients")
	conns := flag.Int("conns", 0, "gRPC connections (default: min(clients, 8))")
	total := flag.Int("total", 1000, "operations in all")
	duration := flag.Duration("duration", 0, "stop after this long instead of -total")
	valueSize := flag.Int("value-size", 256, "bytes per value")
	keySpace := flag.Int("keys", 1000, "distinct keys")
	consistency := flag.String("consistency", "l", "reads: l (linearizable) or s (serializable)")
	prefix := flag.String("prefix", "/kvload/", "key prefix")
	history := flag.String("history", "", "write a lincheck history (JSON lines) here")
	timeout := flag.Duration("timeout", 5*time.Second, "per-operation timeout")
	rate := flag.Int("rate", 0, "open loop: at most this many operations per second in all (0: closed loop)")
	timeline := flag.Bool("timeline", false, "print latencies per second of the run and the slowest operations")
	flag.Parse()

	if *history != "" {
		// The checker assumes every key starts absent: use keys no earlier run touched.
		*prefix = fmt.Sprintf("%shistory-%d/", *prefix, time.Now().UnixNano())
	}
	tcfg, err := tlsConfig(*ca, *cert, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvload:", err)
		os.Exit(2)
	}
	nconns := *conns
	if nconns == 0 {
		nconns = *clients
		if nconns > 8 {
			nconns = 8
		}
	}
	var cs []*clientv3.Client
	for i := 0; i < nconns; i++ {
		c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second,
			TLS: tcfg, Logger: zap.NewNop()})
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvload:", err)
			os.Exit(2)
		}
		defer c.Close()
		cs = append(cs, c)
	}

	value := strings.Repeat("v", *valueSize)
	if *op == "get" {
		// Reads need something to read: fill the key space first (not timed).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		for i := 0; i < *keySpace; i++ {
			if _, err := cs[0].Put(ctx, fmt.Sprintf("%s%08d", *prefix, i), value); err != nil {
				fmt.Fprintln(os.Stderr, "kvload: preload:", err)
				os.Exit(1)
			}
		}
		cancel()
	}

	var readOpts []clientv3.OpOption
	if *consistency == "s" {
		readOpts = append(readOpts, clientv3.WithSerializable())
	}
	start := time.Now()
	var issued, errors int64
	var slots chan struct{}
	if *rate > 0 {
		slots = make(chan struct{}, *clients)
		go generate(slots, *rate, *total, *duration, start)
	}
	starts := make([][]time.Duration, *clients)
	lat := make([][]time.Duration, *clients)
	var errMu sync.Mutex
	errKinds := map[string]int{}
	hist := make([][]historyRecord, *clients)
	var wg sync.WaitGroup
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := cs[w%len(cs)]
			rng := rand.New(rand.NewSource(int64(w) + time.Now().UnixNano()))
			for seq := 0; ; seq++ {
				if slots != nil {
					if _, ok := <-slots; !ok {
						return
					}
				} else if *duration > 0 {
					if time.Since(start) > *duration {
						return
					}
				} else if atomic.AddInt64(&issued, 1) > int64(*total) {
					return
				}
				k := fmt.Sprintf("%s%08d", *prefix, rng.Intn(*keySpace))
				ctx, cancel := context.WithTimeout(context.Background(), *timeout)
				t0 := time.Now()
				rec := historyRecord{Client: w, Key: k, Call: t0.Sub(start).Nanoseconds()}
				var err error
				kind := *op
				if kind == "mixed" {
					kind = []string{"put", "get", "cas"}[rng.Intn(3)]
				}
				switch kind {
				case "put":
					v := value
					if *history != "" {
						v = fmt.Sprintf("w%d-%d", w, seq)
					}
					rec.Op, rec.Value = "put", v
					_, err = c.Put(ctx, k, v)
				case "get":
					var r *clientv3.GetResponse
					rec.Op = "get"
					r, err = c.Get(ctx, k, readOpts...)
					if err == nil && len(r.Kvs) > 0 {
						rec.Found, rec.Value = true, string(r.Kvs[0].Value)
					}
				case "cas":
					// Compare-and-set on the value a recent read saw (or on absence).
					var g *clientv3.GetResponse
					g, err = c.Get(ctx, k, clientv3.WithSerializable())
					expect := ""
					if err == nil && len(g.Kvs) > 0 {
						expect = string(g.Kvs[0].Value)
					}
					t0 = time.Now()
					rec.Call = t0.Sub(start).Nanoseconds()
					v := fmt.Sprintf("c%d-%d", w, seq)
					rec.Op, rec.Expect, rec.Value = "cas", expect, v
					var t *clientv3.TxnResponse
					t, err = c.Txn(ctx).If(clientv3.Compare(clientv3.Value(k), "=", expect)).Then(clientv3.OpPut(k, v)).Commit()
					if err == nil {
						rec.Succeeded = t.Succeeded
					}
				}
				d := time.Since(t0)
				cancel()
				rec.Return = time.Since(start).Nanoseconds()
				if err != nil {
					atomic.AddInt64(&errors, 1)
					rec.Status = "unknown" // a timeout or lost connection may or may not have applied
					errMu.Lock()
					errKinds[err.Error()]++
					errMu.Unlock()
				} else {
					rec.Status = "ok"
					lat[w] = append(lat[w], d)
					starts[w] = append(starts[w], t0.Sub(start))
				}
				// A read that got no answer changed nothing and constrains nothing: leave it out, so the
				// checker does not have to place it. Writes with no answer stay, as "unknown".
				if *history != "" && !(err != nil && rec.Op == "get") {
					hist[w] = append(hist[w], rec)
				}
				if err != nil && *history != "" {
					// Back off like a real client instead of piling up unknown outcomes while the
					// cluster elects a leader; each one multiplies the checker's work.
					time.Sleep(50 * time.Millisecond)
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	fmt.Printf("%s: %d ok, %d errors in %.2f s with %d clients: %.1f ops/s, p50 %.3f ms, p99 %.3f ms\n",
		*op, len(all), errors, elapsed, *clients, float64(len(all))/elapsed, percentile(all, 0.5), percentile(all, 0.99))
	fmt.Printf("RESULT op=%s clients=%d total=%d errors=%d seconds=%.3f ops_per_s=%.1f p50_ms=%.3f p99_ms=%.3f\n",
		*op, *clients, len(all), errors, elapsed, float64(len(all))/elapsed, percentile(all, 0.5), percentile(all, 0.99))

	if *timeline {
		printTimeline(starts, lat)
	}
	for msg, n := range errKinds {
		fmt.Fprintf(os.Stderr, "kvload: %d x %s\n", n, msg)
	}
	if *history != "" {
		f, err := os.Create(*history)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvload:", err)
			os.Exit(2)
		}
		enc := json.NewEncoder(f)
		for _, h := range hist {
			for _, r := range h {
				enc.Encode(r)
			}
		}
		f.Close()
	}
	if errors > 0 && *history == "" {
		os.Exit(1)
	}
}

// generate hands out one slot per 1/rate seconds, like golang.org/x/time/rate with a burst of 1 (what
// `etcdctl check perf` uses): a slot not taken in time is lost. It stops after `total` slots, or after
// `duration` when that is set, and then closes slots.
func generate(slots chan<- struct{}, rate, total int, duration time.Duration, start time.Time) {
	defer close(slots)
	interval := time.Second / time.Duration(rate)
	next := start
	for n := 0; duration > 0 || n < total; n++ {
		now := time.Now()
		if duration > 0 && now.Sub(start) >= duration {
			return
		}
		if wait := next.Sub(now); wait > 0 {
			time.Sleep(wait)
		} else if -wait > interval {
			next = now // late by more than one slot: those slots are gone
		}
		next = next.Add(interval)
		slots <- struct{}{}
	}
}

// printTimeline prints, for each second of the run, the operations that started in it and their
// latencies, then the five slowest operations with their start times.
func printTimeline(starts, lats [][]time.Duration) {
	type op struct{ start, lat time.Duration }
	var ops []op
	perSecond := map[int][]time.Duration{}
	last := 0
	for w := range starts {
		for i, st := range starts[w] {
			ops = append(ops, op{st, lats[w][i]})
			s := int(st / time.Second)
			perSecond[s] = append(perSecond[s], lats[w][i])
			if s > last {
				last = s
			}
		}
	}
	for s := 0; s <= last; s++ {
		l := perSecond[s]
		if len(l) == 0 {
			fmt.Printf("second %3d: no operations started\n", s)
			continue
		}
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		fmt.Printf("second %3d: %5d started, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", s, len(l),
			percentile(l, 0.5), percentile(l, 0.99), percentile(l, 1))
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].lat > ops[j].lat })
	for i := 0; i < 5 && i < len(ops); i++ {
		fmt.Printf("slowest %d: started at %.3f s, took %.3f ms\n", i+1, ops[i].start.Seconds(),
			float64(ops[i].lat.Microseconds())/1000)
	}
}
