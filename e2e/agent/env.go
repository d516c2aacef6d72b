package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// binaryMap says which local executable stands in for an image or a container command: the test
// runs the real etsecd-node and etsecd-operator binaries it built, not container images.
type binaryMap map[string]string

func (b binaryMap) String() string {
	keys := make([]string, 0, len(b))
	for k, v := range b {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (b binaryMap) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want IMAGE-OR-COMMAND=PATH, got %q", s)
	}
	b[k] = v
	return nil
}

// imageRepo strips the tag and digest: "reg:5000/etsecd/node:1.2@sha256:..." -> "reg:5000/etsecd/node".
func imageRepo(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

// argv builds the process arguments with Kubernetes' rules: command replaces the image entrypoint,
// args replace its default arguments, and $(VAR) refers to the container's environment.
func (b binaryMap) argv(c *corev1.Container, env map[string]string) ([]string, error) {
	var argv []string
	if len(c.Command) > 0 {
		exe, ok := b[c.Command[0]]
		if !ok {
			exe, ok = b[imageRepo(c.Image)]
		}
		if !ok {
			return nil, fmt.Errorf("no local binary for command %q or image %q (use --binary)", c.Command[0], imageRepo(c.Image))
		}
		argv = append([]string{exe}, c.Command[1:]...)
	} else {
		exe, ok := b[imageRepo(c.Image)]
		if !ok {
			return nil, fmt.Errorf("no local binary for image %q (use --binary)", imageRepo(c.Image))
		}
		argv = []string{exe}
	}
	argv = append(argv, c.Args...)
	for i := 1; i < len(argv); i++ {
		argv[i] = expandVars(argv[i], env)
	}
	return argv, nil
}

// expandVars applies $(NAME) references; $$ escapes, unknown names stay as written.
func expandVars(s string, env map[string]string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) {
			if s[i+1] == '$' {
				out.WriteByte('$')
				i++
				continue
			}
			if s[i+1] == '(' {
				if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
					name := s[i+2 : i+2+end]
					if v, ok := env[name]; ok {
						out.WriteString(v)
						i += 2 + end
						continue
					}
				}
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
}

// containerEnv resolves the container's environment the way the kubelet would, plus the in-cluster
// API server location (which points at loopback, not at the `kubernetes` Service's cluster IP).
func containerEnv(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, podIP string, a *agent) (map[string]string, []string, error) {
	env := map[string]string{
		"KUBERNETES_SERVICE_HOST":       a.apiHost,
		"KUBERNETES_SERVICE_PORT":       a.apiPort,
		"KUBERNETES_SERVICE_PORT_HTTPS": a.apiPort,
		"HOSTNAME":                      podHostname(pod),
		"PATH":                          "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		// gRPC's c-ares resolver may skip /etc/hosts, which is where pod names resolve here.
		"GRPC_DNS_RESOLVER": "native",
	}
	order := []string{"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_PORT_HTTPS", "HOSTNAME", "PATH", "GRPC_DNS_RESOLVER"}
	put := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, ef := range c.EnvFrom {
		var data map[string]string
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom configMap %s: %w", ef.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case ef.SecretRef != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom secret %s: %w", ef.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		for k, v := range data {
			put(ef.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			put(e.Name, expandVars(e.Value, env))
			continue
		}
		v, err := envValueFrom(ctx, cs, pod, e.ValueFrom, podIP)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		put(e.Name, v)
	}
	list := make([]string, 0, len(order))
	for _, k := range order {
		list = append(list, k+"="+env[k])
	}
	return env, list, nil
}

func envValueFrom(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, src *corev1.EnvVarSource, podIP string) (string, error) {
	switch {
	case src.FieldRef != nil:
		return podField(pod, src.FieldRef.FieldPath, podIP)
	case src.SecretKeyRef != nil:
		s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		v, ok := s.Data[src.SecretKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("secret %s has no key %s", src.SecretKeyRef.Name, src.SecretKeyRef.Key)
		}
		return string(v), nil
	case src.ConfigMapKeyRef != nil:
		cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		v, ok := cm.Data[src.ConfigMapKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("configMap %s has no key %s", src.ConfigMapKeyRef.Name, src.ConfigMapKeyRef.Key)
		}
		return v, nil
	}
	return "", fmt.Errorf("unsupported valueFrom (only fieldRef, secretKeyRef and configMapKeyRef)")
}

func podField(pod *corev1.Pod, path, podIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return "127.0.0.1", nil
	}
	if strings.HasPrefix(path, "metadata.labels['") && strings.HasSuffix(path, "']") {
		return pod.Labels[path[len("metadata.labels['"):len(path)-2]], nil
	}
	if strings.HasPrefix(path, "metadata.annotations['") && strings.HasSuffix(path, "']") {
		return pod.Annotations[path[len("metadata.annotations['"):len(path)-2]], nil
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

func podHostname(pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}
