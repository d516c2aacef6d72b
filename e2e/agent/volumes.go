package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// mount is one bind mount the process sees: Source (a folder or file the agent prepared) at Target
// (the container path from the pod spec).
type mount struct {
	Source, Target string
	ReadOnly       bool
}

// tokenFile is a projected service-account token the agent must renew before it expires.
type tokenFile struct {
	path     string
	sa       string
	audience []string
	seconds  int64
}

// prepareVolumes materialises the pod's volumes under dir and returns the mounts of container c and
// the tokens to keep fresh. Service-account tokens come from the TokenRequest API bound to the pod,
// so the process authenticates as its service account and RBAC applies to it.
func prepareVolumes(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, dir, podIP string) ([]mount, []tokenFile, error) {
	var tokens []tokenFile
	paths := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		vdir := filepath.Join(dir, "volumes", v.Name)
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				return nil, nil, err
			}
		case v.Secret != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				return nil, nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := writeKeys(vdir, s.Data, nil, v.Secret.Items); err != nil {
				return nil, nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.ConfigMap != nil:
			cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := writeKeys(vdir, nil, cm.Data, v.ConfigMap.Items); err != nil {
				return nil, nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.Projected != nil:
			t, err := projectVolume(ctx, cs, pod, v.Projected, vdir, podIP)
			if err != nil {
				return nil, nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			tokens = append(tokens, t...)
		case v.PersistentVolumeClaim != nil:
			src, err := claimPath(ctx, cs, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err != nil {
				return nil, nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			vdir = src
		case v.HostPath != nil:
			vdir = v.HostPath.Path
		default:
			return nil, nil, fmt.Errorf("volume %s: unsupported volume type", v.Name)
		}
		paths[v.Name] = vdir
	}
	var mounts []mount
	for _, vm := range c.VolumeMounts {
		src, ok := paths[vm.Name]
		if !ok {
			return nil, nil, fmt.Errorf("volumeMount %s names no volume", vm.Name)
		}
		if vm.SubPath != "" {
			src = filepath.Join(src, vm.SubPath)
			if _, err := os.Stat(src); os.IsNotExist(err) {
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, nil, err
				}
			}
		}
		mounts = append(mounts, mount{Source: src, Target: vm.MountPath, ReadOnly: vm.ReadOnly})
	}
	return mounts, tokens, nil
}

func writeKeys(dir string, bin map[string][]byte, str map[string]string, items []corev1.KeyToPath) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data := map[string][]byte{}
	for k, v := range bin {
		data[k] = v
	}
	for k, v := range str {
		data[k] = []byte(v)
	}
	if len(items) == 0 {
		for k := range data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("no key %q", it.Key)
		}
		if err := writeFileAtomic(filepath.Join(dir, it.Path), v); err != nil {
			return err
		}
	}
	return nil
}

func projectVolume(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, p *corev1.ProjectedVolumeSource, dir, podIP string) ([]tokenFile, error) {
	var tokens []tokenFile
	for _, src := range p.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			t := tokenFile{path: filepath.Join(dir, src.ServiceAccountToken.Path), sa: pod.Spec.ServiceAccountName, seconds: 3600}
			if src.ServiceAccountToken.Audience != "" {
				t.audience = []string{src.ServiceAccountToken.Audience}
			}
			if src.ServiceAccountToken.ExpirationSeconds != nil {
				t.seconds = *src.ServiceAccountToken.ExpirationSeconds
			}
			if _, err := refreshToken(ctx, cs, pod, t); err != nil {
				return nil, err
			}
			tokens = append(tokens, t)
		case src.ConfigMap != nil:
			cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			if err := writeKeys(dir, nil, cm.Data, src.ConfigMap.Items); err != nil {
				return nil, err
			}
		case src.Secret != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, src.Secret.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			if err := writeKeys(dir, s.Data, nil, src.Secret.Items); err != nil {
				return nil, err
			}
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					return nil, fmt.Errorf("downwardAPI %s: only fieldRef is supported", it.Path)
				}
				v, err := podField(pod, it.FieldRef.FieldPath, podIP)
				if err != nil {
					return nil, err
				}
				if err := writeFileAtomic(filepath.Join(dir, it.Path), []byte(v)); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("unsupported projected source")
		}
	}
	return tokens, nil
}

// refreshToken asks the TokenRequest API for a token bound to the pod and writes it; it returns
// when the token expires.
func refreshToken(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, t tokenFile) (time.Time, error) {
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         t.audience,
		ExpirationSeconds: &t.seconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	res, err := cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, t.sa, req, metav1.CreateOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("token for service account %s/%s: %w", pod.Namespace, t.sa, err)
	}
	if err := writeFileAtomic(t.path, []byte(res.Status.Token)); err != nil {
		return time.Time{}, err
	}
	return res.Status.ExpirationTimestamp.Time, nil
}

// claimPath finds the folder behind a bound PVC: `up` makes local PersistentVolumes whose path is a
// folder on this machine.
func claimPath(ctx context.Context, cs kubernetes.Interface, ns, claim string) (string, error) {
	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("claim %s is not bound yet", claim)
	}
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	switch {
	case pv.Spec.Local != nil:
		return pv.Spec.Local.Path, nil
	case pv.Spec.HostPath != nil:
		return pv.Spec.HostPath.Path, nil
	}
	return "", fmt.Errorf("volume %s is neither local nor hostPath", pv.Name)
}

// writeFileAtomic replaces path by rename so a reader never sees half a file (a token, a cert).
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
