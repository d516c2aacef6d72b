package main

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
)

func op(client int, call, ret int64, in input, out output) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Return: ret, Output: out}
}

func TestLinearizableHistoryPasses(t *testing.T) {
	h := []porcupine.Operation{
		op(0, 0, 10, input{op: "put", key: "k", value: "a"}, output{}),
		op(1, 5, 15, input{op: "get", key: "k"}, output{found: true, value: "a"}),
		op(2, 12, 20, input{op: "cas", key: "k", expect: "a", value: "b"}, output{succeeded: true}),
		op(1, 21, 22, input{op: "get", key: "k"}, output{found: true, value: "b"}),
		op(0, 23, 24, input{op: "del", key: "k"}, output{}),
		op(1, 25, 26, input{op: "get", key: "k"}, output{found: false}),
	}
	if !porcupine.CheckOperations(kvModel, h) {
		t.Fatal("a linearizable history was rejected")
	}
}

func TestStaleReadIsCaught(t *testing.T) {
	h := []porcupine.Operation{
		op(0, 0, 10, input{op: "put", key: "k", value: "a"}, output{}),
		op(0, 11, 20, input{op: "put", key: "k", value: "b"}, output{}),
		op(1, 21, 30, input{op: "get", key: "k"}, output{found: true, value: "a"}),
	}
	if porcupine.CheckOperations(kvModel, h) {
		t.Fatal("a stale read was accepted")
	}
}

func TestLostAcknowledgedWriteIsCaught(t *testing.T) {
	h := []porcupine.Operation{
		op(0, 0, 10, input{op: "put", key: "k", value: "a"}, output{}),
		op(1, 11, 20, input{op: "get", key: "k"}, output{found: false}),
	}
	if porcupine.CheckOperations(kvModel, h) {
		t.Fatal("a lost write was accepted")
	}
}

func TestUnknownWriteMayOrMayNotApply(t *testing.T) {
	unknown := op(0, 0, math.MaxInt64, input{op: "put", key: "k", value: "a"}, output{unknown: true})
	seen := []porcupine.Operation{unknown, op(1, 5, 6, input{op: "get", key: "k"}, output{found: true, value: "a"})}
	unseen := []porcupine.Operation{unknown, op(1, 5, 6, input{op: "get", key: "k"}, output{found: false})}
	if !porcupine.CheckOperations(kvModel, seen) || !porcupine.CheckOperations(kvModel, unseen) {
		t.Fatal("an unknown-outcome write must be allowed to apply or not")
	}
}

func TestCasOutcomeMustMatchState(t *testing.T) {
	h := []porcupine.Operation{
		op(0, 0, 10, input{op: "put", key: "k", value: "a"}, output{}),
		op(1, 11, 20, input{op: "cas", key: "k", expect: "zzz", value: "b"}, output{succeeded: true}),
	}
	if porcupine.CheckOperations(kvModel, h) {
		t.Fatal("a cas that succeeded against the wrong value was accepted")
	}
}
