package main

import (
	"fmt"
	"net/netip"
	"sync"
)

// loopbackPool hands out pod IPs from a range inside 127.0.0.0/8: every such address reaches the
// local host without any interface set-up, so a process can bind it and nothing leaves the machine.
type loopbackPool struct {
	mu     sync.Mutex
	prefix netip.Prefix
	next   netip.Addr
	byUID  map[string]netip.Addr
	inUse  map[netip.Addr]bool
}

func newLoopbackPool(cidr string) (*loopbackPool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %w", cidr, err)
	}
	if !netip.MustParsePrefix("127.0.0.0/8").Contains(p.Addr()) || p.Bits() < 8 {
		return nil, fmt.Errorf("pod CIDR %q must lie inside 127.0.0.0/8", cidr)
	}
	p = p.Masked()
	return &loopbackPool{prefix: p, next: p.Addr().Next(), byUID: map[string]netip.Addr{}, inUse: map[netip.Addr]bool{}}, nil
}

// acquire returns the address already held by uid, or the next free one.
func (l *loopbackPool) acquire(uid string) (netip.Addr, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.byUID[uid]; ok {
		return a, nil
	}
	start := l.next
	for {
		a := l.next
		l.next = a.Next()
		if !l.prefix.Contains(l.next) {
			l.next = l.prefix.Addr().Next()
		}
		if !l.inUse[a] && l.prefix.Contains(a) {
			l.inUse[a] = true
			l.byUID[uid] = a
			return a, nil
		}
		if l.next == start {
			return netip.Addr{}, fmt.Errorf("pod CIDR %s is exhausted", l.prefix)
		}
	}
}

func (l *loopbackPool) release(uid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.byUID[uid]; ok {
		delete(l.inUse, a)
		delete(l.byUID, uid)
	}
}
