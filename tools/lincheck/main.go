// lincheck checks recorded client histories of an etcd-compatible key-value store for
// linearizability with the porcupine checker.
//
// A history is a file of JSON lines, one completed or abandoned client operation per line:
//
//	{"client":0,"op":"put","key":"k1","value":"a","call":1,"return":9,"status":"ok"}
//	{"client":1,"op":"get","key":"k1","found":true,"value":"a","call":2,"return":5,"status":"ok"}
//	{"client":2,"op":"cas","key":"k1","expect":"a","value":"b","succeeded":true,"call":3,"return":8,"status":"ok"}
//	{"client":3,"op":"del","key":"k1","call":4,"return":7,"status":"unknown"}
//
// status: "ok" (the response was received), "fail" (the store said it did not apply), "unknown" (no
// answer: the operation may or may not have taken effect, so it may be linearized at any point after
// its call, including never). Times are integers (nanoseconds) from one monotonic clock.
//
// Usage: lincheck [-timeout 60s] [-html DIR] HISTORY...
// Prints one line per history and a summary; exits 1 if any history is not linearizable or the check
// timed out, 2 on malformed input.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

type record struct {
	Client    int    `json:"client"`
	Op        string `json:"op"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Expect    string `json:"expect"`
	Found     bool   `json:"found"`
	Succeeded bool   `json:"succeeded"`
	Call      int64  `json:"call"`
	Return    int64  `json:"return"`
	Status    string `json:"status"`
}

type input struct {
	op, key, value, expect string
}

type output struct {
	unknown   bool
	found     bool
	value     string
	succeeded bool
}

// state of one key: present with a value, or absent.
type state struct {
	present bool
	value   string
}

var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(input).key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return state{} },
	Step: func(s, in, out interface{}) (bool, interface{}) {
		st, i, o := s.(state), in.(input), out.(output)
		switch i.op {
		case "get":
			if o.unknown {
				return true, st
			}
			return o.found == st.present && (!o.found || o.value == st.value), st
		case "put":
			return true, state{present: true, value: i.value}
		case "del":
			return true, state{}
		case "cas":
			matches := st.present && st.value == i.expect
			if !o.unknown && o.succeeded != matches {
				return false, st
			}
			if matches {
				return true, state{present: true, value: i.value}
			}
			return true, st
		}
		return false, st
	},
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(input), out.(output)
		res := "?"
		if !o.unknown {
			switch i.op {
			case "get":
				res = "absent"
				if o.found {
					res = fmt.Sprintf("%q", o.value)
				}
			case "cas":
				res = fmt.Sprint(o.succeeded)
			default:
				res = "ok"
			}
		}
		return fmt.Sprintf("%s(%q, %q, %q) -> %s", i.op, i.key, i.expect, i.value, res)
	},
}

func load(path string) ([]porcupine.Operation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops []porcupine.Operation
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		switch r.Op {
		case "get", "put", "del", "cas":
		default:
			return nil, fmt.Errorf("%s:%d: unknown op %q", path, line, r.Op)
		}
		if r.Return < r.Call && r.Status != "unknown" {
			return nil, fmt.Errorf("%s:%d: return before call", path, line)
		}
		in := input{op: r.Op, key: r.Key, value: r.Value, expect: r.Expect}
		switch r.Status {
		case "ok":
			ops = append(ops, porcupine.Operation{ClientId: r.Client, Input: in, Call: r.Call, Return: r.Return,
				Output: output{found: r.Found, value: r.Value, succeeded: r.Succeeded}})
		case "fail":
			// Definitely not applied: it is not part of the history.
		case "unknown":
			if r.Op == "get" {
				continue // a read without an answer constrains nothing
			}
			ops = append(ops, porcupine.Operation{ClientId: r.Client, Input: in, Call: r.Call,
				Return: math.MaxInt64, Output: output{unknown: true}})
		default:
			return nil, fmt.Errorf("%s:%d: unknown status %q", path, line, r.Status)
		}
	}
	return ops, sc.Err()
}

func main() {
	timeout := flag.Duration("timeout", 60*time.Second, "give up on one history after this long")
	htmlDir := flag.String("html", "", "write a visualization of each non-linearizable history here")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: lincheck [-timeout D] [-html DIR] HISTORY...")
		os.Exit(2)
	}
	bad, total := 0, 0
	for _, path := range flag.Args() {
		ops, err := load(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lincheck:", err)
			os.Exit(2)
		}
		total += len(ops)
		res, info := porcupine.CheckOperationsVerbose(kvModel, ops, *timeout)
		verdict := map[porcupine.CheckResult]string{porcupine.Ok: "linearizable",
			porcupine.Illegal: "NOT linearizable", porcupine.Unknown: "timed out"}[res]
		fmt.Printf("%s: %d operations: %s\n", path, len(ops), verdict)
		if res != porcupine.Ok {
			bad++
			if *htmlDir != "" {
				out := filepath.Join(*htmlDir, filepath.Base(path)+".html")
				if err := porcupine.VisualizePath(kvModel, info, out); err == nil {
					fmt.Printf("  visualization: %s\n", out)
				}
			}
		}
	}
	fmt.Printf("checked %d histories, %d operations, %d not linearizable or timed out\n", flag.NArg(), total, bad)
	if bad > 0 {
		os.Exit(1)
	}
}
