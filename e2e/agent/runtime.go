package main

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// podRuntime is the agent's kubelet for one pod: it runs the pod's (single) container as a real
// process in its own mount and UTS namespace, restarts it per restartPolicy, probes its readiness
// and reports all of it in the pod status.
type podRuntime struct {
	a   *agent
	uid string
	dir string

	mu         sync.Mutex
	pod        *corev1.Pod
	ip         netip.Addr
	cmd        *exec.Cmd
	startedAt  time.Time
	ready      bool
	restarts   int32
	lastExit   *corev1.ContainerStateTerminated
	waiting    string // reason while no process runs
	waitingMsg string
	renewing   bool // token renewal goroutines started

	stop chan struct{}
	done chan struct{}
}

func newPodRuntime(a *agent, pod *corev1.Pod) *podRuntime {
	return &podRuntime{
		a: a, uid: string(pod.UID), pod: pod.DeepCopy(),
		dir:     filepath.Join(a.dir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		waiting: "ContainerCreating",
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
}

func (r *podRuntime) current() *corev1.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pod
}

func (r *podRuntime) update(pod *corev1.Pod) {
	r.mu.Lock()
	r.pod = pod.DeepCopy()
	r.mu.Unlock()
}

func (r *podRuntime) logf(format string, args ...any) {
	p := r.current()
	log.Printf("%s/%s: %s", p.Namespace, p.Name, fmt.Sprintf(format, args...))
}

// run sets the pod up and keeps its process alive until stop is closed.
func (r *podRuntime) run(ctx context.Context) {
	defer close(r.done)
	pod := r.current()
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) != 0 {
		r.setWaiting("Unsupported", "the e2e agent runs pods with exactly one container and no init containers")
		return
	}
	ip, err := r.a.ips.acquire(r.uid)
	if err != nil {
		r.setWaiting("CreateContainerError", err.Error())
		return
	}
	r.mu.Lock()
	r.ip = ip
	r.mu.Unlock()
	if err := r.a.hosts.set(r.uid, ip.String(), podHostname(pod), pod.Spec.Subdomain, pod.Namespace); err != nil {
		r.logf("%v", err)
	}
	r.a.pushStatus(ctx, r)

	backoff := time.Second
	for {
		started, exited, err := r.startProcess(ctx)
		if err != nil {
			r.logf("cannot start: %v", err)
			r.setWaiting("CreateContainerError", err.Error())
		} else {
			r.a.pushStatus(ctx, r)
			probeCtx, stopProbes := context.WithCancel(ctx)
			go r.probeLoop(probeCtx)
			select {
			case <-r.stop:
				stopProbes()
				r.terminate(exited)
				return
			case state := <-exited:
				stopProbes()
				r.mu.Lock()
				r.cmd, r.ready, r.lastExit = nil, false, state
				r.mu.Unlock()
				r.logf("process exited with code %d after %s", state.ExitCode, time.Since(started).Round(time.Millisecond))
				if time.Since(started) > time.Minute {
					backoff = time.Second
				}
			}
		}
		policy := r.current().Spec.RestartPolicy
		if r.lastExitCode() == 0 && policy == corev1.RestartPolicyOnFailure || policy == corev1.RestartPolicyNever {
			r.a.pushStatus(ctx, r)
			<-r.stop
			return
		}
		r.setWaiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting the process", backoff))
		r.a.pushStatus(ctx, r)
		select {
		case <-r.stop:
			return
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 10*time.Second {
			backoff = 10 * time.Second
		}
		r.mu.Lock()
		r.restarts++
		r.mu.Unlock()
	}
}

func (r *podRuntime) lastExitCode() int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastExit == nil {
		return -1
	}
	return r.lastExit.ExitCode
}

func (r *podRuntime) setWaiting(reason, msg string) {
	r.mu.Lock()
	r.waiting, r.waitingMsg = reason, msg
	r.mu.Unlock()
}

// startProcess prepares volumes and environment and starts the process inside private mount and
// UTS namespaces, where the pod's volumes are bind-mounted at their container paths, /etc/hosts is
// the agent's name table and the hostname is the pod's.
func (r *podRuntime) startProcess(ctx context.Context) (time.Time, <-chan *corev1.ContainerStateTerminated, error) {
	pod := r.current()
	c := &pod.Spec.Containers[0]
	ip := r.ip.String()
	mounts, tokens, err := prepareVolumes(ctx, r.a.cs, pod, c, r.dir, ip)
	if err != nil {
		return time.Time{}, nil, err
	}
	r.mu.Lock()
	if !r.renewing {
		r.renewing = true
		for _, t := range tokens {
			go r.keepTokenFresh(ctx, t)
		}
	}
	r.mu.Unlock()
	envMap, envList, err := containerEnv(ctx, r.a.cs, pod, c, ip, r.a)
	if err != nil {
		return time.Time{}, nil, err
	}
	argv, err := r.a.binaries.argv(c, envMap)
	if err != nil {
		return time.Time{}, nil, err
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	fmt.Fprintf(&script, "hostname %s\n", shQuote(podHostname(pod)))
	fmt.Fprintf(&script, "mount --bind %s /etc/hosts\n", shQuote(r.a.hosts.path))
	for _, m := range mounts {
		if err := r.a.ensureMountPoint(m); err != nil {
			return time.Time{}, nil, err
		}
		fmt.Fprintf(&script, "mount --bind %s %s\n", shQuote(m.Source), shQuote(m.Target))
		if m.ReadOnly {
			fmt.Fprintf(&script, "mount -o remount,bind,ro %s\n", shQuote(m.Target))
		}
	}
	if c.WorkingDir != "" {
		fmt.Fprintf(&script, "cd %s\n", shQuote(c.WorkingDir))
	}
	script.WriteString("exec \"$@\"\n")

	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return time.Time{}, nil, err
	}
	logf, err := os.OpenFile(filepath.Join(r.dir, c.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return time.Time{}, nil, err
	}
	args := append([]string{"--mount", "--uts", "--propagation", "private", "--", "/bin/sh", "-c", script.String(), "sh"}, argv...)
	cmd := exec.Command("unshare", args...)
	cmd.Env = envList
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: if the agent dies, its processes die with it instead of lingering on the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return time.Time{}, nil, err
	}
	started := time.Now()
	exited := make(chan *corev1.ContainerStateTerminated, 1)
	go func() {
		err := cmd.Wait()
		logf.Close()
		code := int32(0)
		if ee, ok := err.(*exec.ExitError); ok {
			code = int32(ee.ExitCode())
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int32(ws.Signal())
			}
		}
		reason := "Completed"
		if code != 0 {
			reason = "Error"
		}
		exited <- &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}
	}()
	r.mu.Lock()
	r.cmd, r.startedAt, r.waiting, r.waitingMsg = cmd, started, "", ""
	r.mu.Unlock()
	r.logf("started %v at %s (pid %d)", argv, ip, cmd.Process.Pid)
	return started, exited, nil
}

// terminate stops the process like the kubelet does: SIGTERM, then SIGKILL after the grace period.
func (r *podRuntime) terminate(exited <-chan *corev1.ContainerStateTerminated) {
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	pod := r.current()
	grace := int64(30)
	if pod.DeletionGracePeriodSeconds != nil {
		grace = *pod.DeletionGracePeriodSeconds
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if r.a.stopping.Load() && grace > 5 {
		grace = 5 // the agent itself is stopping: do not outlast `down`'s patience
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Duration(grace) * time.Second):
		r.logf("still running %ds after SIGTERM; sending SIGKILL", grace)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	r.logf("process stopped")
}

func (r *podRuntime) probeLoop(ctx context.Context) {
	pod := r.current()
	c := &pod.Spec.Containers[0]
	p := c.ReadinessProbe
	if p == nil {
		r.setReady(ctx, true)
		return
	}
	period := time.Duration(p.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	failureThreshold := max(p.FailureThreshold, 1)
	successThreshold := max(p.SuccessThreshold, 1)
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Duration(p.InitialDelaySeconds) * time.Second):
	}
	var successes, failures int32
	ticker := time.NewTicker(min(period, r.a.maxProbePeriod))
	defer ticker.Stop()
	for {
		if err := probeOnce(ctx, p, c, r.ip.String()); err != nil {
			successes, failures = 0, failures+1
			if failures >= failureThreshold {
				r.setReady(ctx, false)
			}
		} else {
			successes, failures = successes+1, 0
			if successes >= successThreshold {
				r.setReady(ctx, true)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (r *podRuntime) setReady(ctx context.Context, ready bool) {
	r.mu.Lock()
	changed := r.ready != ready
	r.ready = ready
	r.mu.Unlock()
	if changed {
		r.logf("ready=%v", ready)
		r.a.pushStatus(ctx, r)
	}
}

func (r *podRuntime) keepTokenFresh(ctx context.Context, t tokenFile) {
	for {
		// Renew at 80% of the lifetime, as the kubelet does.
		wait := time.Duration(float64(t.seconds)*0.8) * time.Second
		select {
		case <-ctx.Done():
			return
		case <-r.stop:
			return
		case <-time.After(wait):
		}
		if _, err := refreshToken(ctx, r.a.cs, r.current(), t); err != nil {
			r.logf("renewing token: %v", err)
		}
	}
}

func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
