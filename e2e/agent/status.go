package main

import (
	"context"
	"log"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// pushStatus writes what the runtime knows into the pod's status subresource, as a kubelet would:
// phase, loopback pod IP, conditions and the container's state.
func (a *agent) pushStatus(ctx context.Context, r *podRuntime) {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := a.cs.CoreV1().Pods(r.current().Namespace).Get(ctx, r.current().Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if string(pod.UID) != r.uid {
			return nil // a newer pod with the same name; its own runtime reports for it
		}
		r.mu.Lock()
		status := buildStatus(pod, r)
		r.mu.Unlock()
		pod.Status = status
		_, err = a.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		log.Printf("%s/%s: status update: %v", r.current().Namespace, r.current().Name, err)
	}
}

// buildStatus must be called with r.mu held.
func buildStatus(pod *corev1.Pod, r *podRuntime) corev1.PodStatus {
	now := metav1.Now()
	st := pod.Status
	c := pod.Spec.Containers[0]
	if st.StartTime == nil {
		st.StartTime = &now
	}
	if r.ip.IsValid() {
		st.PodIP = r.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
		st.HostIP = "127.0.0.1"
		st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	}
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, RestartCount: r.restarts}
	running := r.cmd != nil
	if r.lastExit != nil {
		cs.LastTerminationState = corev1.ContainerState{Terminated: r.lastExit}
	}
	switch {
	case running:
		started := metav1.NewTime(r.startedAt)
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
		cs.Ready, cs.Started = r.ready, ptr(true)
		st.Phase = corev1.PodRunning
	case r.waiting != "":
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: r.waiting, Message: r.waitingMsg}}
		cs.Started = ptr(false)
		if r.lastExit == nil {
			st.Phase = corev1.PodPending
		}
	case r.lastExit != nil:
		cs.State = corev1.ContainerState{Terminated: r.lastExit}
		cs.Started = ptr(false)
		st.Phase = corev1.PodSucceeded
		if r.lastExit.ExitCode != 0 {
			st.Phase = corev1.PodFailed
		}
	}
	st.ContainerStatuses = []corev1.ContainerStatus{cs}
	ready := running && r.ready
	setCondition(&st, corev1.PodInitialized, true, now)
	setCondition(&st, corev1.ContainersReady, ready, now)
	setCondition(&st, corev1.PodReady, ready, now)
	return st
}

func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, ok bool, now metav1.Time) {
	want := corev1.ConditionFalse
	if ok {
		want = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != want {
				st.Conditions[i].Status = want
				st.Conditions[i].LastTransitionTime = now
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: want, LastTransitionTime: now})
}

func ptr[T any](v T) *T { return &v }
