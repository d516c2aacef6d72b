// Command e2e-agent plays the kubelet for the etsecd pods of the e2e control plane. kwok keeps the
// fake nodes alive and fakes every other pod; pods matching --selector are left to this agent, which
// runs each as a real local process at a loopback IP it assigns (see docs/e2e.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

type agent struct {
	cs             kubernetes.Interface
	dir            string
	ips            *loopbackPool
	hosts          *hostsFile
	binaries       binaryMap
	apiHost        string
	apiPort        string
	maxProbePeriod time.Duration
	stopping       atomic.Bool

	mu       sync.Mutex
	runtimes map[string]*podRuntime // namespace/name -> runtime of the pod with that name now
	created  []string               // mount points the agent had to create on the host
}

func main() {
	var (
		kubeconfig = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the agent's identity")
		dir        = flag.String("dir", "", "state folder (pod folders, logs, hosts file)")
		podCIDR    = flag.String("pod-cidr", "127.2.0.0/16", "loopback range for pod IPs")
		selector   = flag.String("selector", "app.kubernetes.io/name in (etsecd,etsecd-operator)", "label selector of the pods this agent runs")
		domain     = flag.String("cluster-domain", "cluster.local", "DNS suffix for pod names in the hosts file")
		probeMax   = flag.Duration("max-probe-period", 2*time.Second, "probe at least this often, whatever periodSeconds says, to keep tests fast")
	)
	binaries := binaryMap{}
	flag.Var(binaries, "binary", "IMAGE-REPO-OR-COMMAND=LOCAL-PATH (repeatable): the executable that stands in for an image")
	flag.Parse()
	if *dir == "" {
		log.Fatal("--dir is required")
	}
	if err := run(*kubeconfig, *dir, *podCIDR, *selector, *domain, *probeMax, binaries); err != nil {
		log.Fatal(err)
	}
}

func run(kubeconfig, dir, podCIDR, selector, domain string, probeMax time.Duration, binaries binaryMap) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return fmt.Errorf("API server URL %q: %w", cfg.Host, err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return fmt.Errorf("API server URL %q needs host:port: %w", cfg.Host, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ips, err := newLoopbackPool(podCIDR)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hosts, err := newHostsFile(filepath.Join(dir, "hosts"), domain)
	if err != nil {
		return err
	}
	a := &agent{cs: cs, dir: dir, ips: ips, hosts: hosts, binaries: binaries, apiHost: host, apiPort: port,
		maxProbePeriod: probeMax, runtimes: map[string]*podRuntime{}}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	}))
	podInformer := factory.Core().V1().Pods()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			queue.Add(key)
		}
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, n any) { enqueue(n) }, DeleteFunc: enqueue,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		return fmt.Errorf("pod cache did not sync")
	}
	log.Printf("e2e-agent running pods matching %q at %s, binaries %s", selector, podCIDR, binaries)
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for {
		key, quit := queue.Get()
		if quit {
			break
		}
		if err := a.sync(ctx, podInformer.Lister(), key); err != nil {
			log.Printf("%s: %v", key, err)
			queue.AddRateLimited(key)
		} else {
			queue.Forget(key)
		}
		queue.Done(key)
	}
	a.shutdown()
	return nil
}

// sync makes the agent's processes match one pod: start it when it is bound to a node, stop it and
// finish the deletion when it is being deleted, forget it when it is gone.
func (a *agent) sync(ctx context.Context, lister corelisters.PodLister, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	pod, err := lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		a.forget(key, "")
		return nil
	}
	if err != nil {
		return err
	}
	a.mu.Lock()
	rt := a.runtimes[key]
	a.mu.Unlock()
	if rt != nil && rt.uid != string(pod.UID) {
		a.forget(key, rt.uid) // the pod was replaced by a new one with the same name
		rt = nil
	}
	if pod.Spec.NodeName == "" {
		return nil // not scheduled yet
	}
	if pod.DeletionTimestamp != nil {
		if rt != nil {
			rt.update(pod)
		}
		go a.finishDeletion(ctx, key, pod)
		return nil
	}
	if rt != nil {
		rt.update(pod)
		return nil
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	rt = newPodRuntime(a, pod)
	a.mu.Lock()
	a.runtimes[key] = rt
	a.mu.Unlock()
	go rt.run(ctx)
	return nil
}

// finishDeletion stops the pod's process within its grace period, then removes the pod object
// (grace period 0, only this pod's UID) as the kubelet does once its containers are gone.
func (a *agent) finishDeletion(ctx context.Context, key string, pod *corev1.Pod) {
	a.forget(key, string(pod.UID))
	err := a.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: ptr(pod.UID)},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Printf("%s: finishing deletion: %v", key, err)
	}
}

// forget stops the runtime of key (only if it runs the pod with uid, when uid is given) and frees
// its IP and hosts entry.
func (a *agent) forget(key, uid string) {
	a.mu.Lock()
	rt := a.runtimes[key]
	if rt == nil || (uid != "" && rt.uid != uid) {
		a.mu.Unlock()
		return
	}
	delete(a.runtimes, key)
	a.mu.Unlock()
	close(rt.stop)
	<-rt.done
	a.ips.release(rt.uid)
	if err := a.hosts.remove(rt.uid); err != nil {
		log.Printf("%s: %v", key, err)
	}
}

// ensureMountPoint creates a missing container path on the host so it can be bind-mounted over in
// the process's private mount namespace; shutdown removes what it created.
func (a *agent) ensureMountPoint(m mount) error {
	if _, err := os.Lstat(m.Target); err == nil {
		return nil
	}
	src, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("mount source %s: %w", m.Source, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// Record each folder level that did not exist, outermost first.
	var missing []string
	for p := filepath.Dir(m.Target); p != "/"; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil {
			break
		}
		missing = append([]string{p}, missing...)
	}
	for _, p := range missing {
		if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("mount point %s: %w", p, err)
		}
		a.created = append(a.created, p)
	}
	if src.IsDir() {
		err = os.Mkdir(m.Target, 0o755)
	} else {
		var f *os.File
		if f, err = os.OpenFile(m.Target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
			err = f.Close()
		}
	}
	if err != nil && !os.IsExist(err) {
		return fmt.Errorf("mount point %s: %w", m.Target, err)
	}
	a.created = append(a.created, m.Target)
	return nil
}

// shutdown stops every process and removes the mount points it created (deepest first; only empty
// ones, so nothing that something else put there is lost).
func (a *agent) shutdown() {
	a.stopping.Store(true)
	a.mu.Lock()
	keys := make([]string, 0, len(a.runtimes))
	for k := range a.runtimes {
		keys = append(keys, k)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.forget(k, "")
		}()
	}
	wg.Wait()
	a.mu.Lock()
	created := append([]string(nil), a.created...)
	a.mu.Unlock()
	sort.Slice(created, func(i, j int) bool { return len(created[i]) > len(created[j]) })
	for _, p := range created {
		if fi, err := os.Lstat(p); err == nil && (fi.IsDir() || fi.Size() == 0) {
			_ = os.Remove(p)
		}
	}
	log.Printf("e2e-agent stopped")
}
