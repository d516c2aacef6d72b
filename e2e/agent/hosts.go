package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// hostsFile stands in for cluster DNS: every process the agent runs sees this file as /etc/hosts,
// listing the DNS names a pod with hostname and subdomain (a StatefulSet member behind a headless
// Service) would have. It is rewritten in place, never replaced, because a bind mount pins the inode.
type hostsFile struct {
	mu      sync.Mutex
	path    string
	domain  string
	entries map[string]string // pod UID -> line
}

func newHostsFile(path, domain string) (*hostsFile, error) {
	h := &hostsFile{path: path, domain: domain, entries: map[string]string{}}
	return h, h.write()
}

func (h *hostsFile) set(uid, ip, hostname, subdomain, namespace string) error {
	names := []string{hostname}
	if subdomain != "" {
		base := hostname + "." + subdomain + "." + namespace
		names = append([]string{base + ".svc." + h.domain, base + ".svc", base, hostname + "." + subdomain}, names...)
	}
	h.mu.Lock()
	h.entries[uid] = ip + " " + strings.Join(names, " ")
	h.mu.Unlock()
	return h.write()
}

func (h *hostsFile) remove(uid string) error {
	h.mu.Lock()
	delete(h.entries, uid)
	h.mu.Unlock()
	return h.write()
}

func (h *hostsFile) write() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	lines := make([]string, 0, len(h.entries))
	for _, l := range h.entries {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	content := "127.0.0.1 localhost\n::1 localhost\n" + strings.Join(lines, "\n") + "\n"
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("hosts file: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("hosts file: %w", err)
	}
	return f.Close()
}
