// kvload drives an etcd-v3-compatible cluster with the official etcd Go client (clientv3) and reports
// latency percentiles and throughput, the same way for etcd and for etsecd so the two can be compared
// in one run. With -history it also records every operation for the lincheck linearizability checker.
//
//	kvload -endpoints=https://127.0.0.1:2379 -cacert=ca.pem -cert=c.pem -key=c-key.pem \
//	       -op=put -clients=64 -total=20000 -value-size=256
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
				if *duration > 0 {
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
