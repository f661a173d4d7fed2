package k8s_test

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"shakedown/simulator"
)

// simKiBPerDevice is the simulator's resident memory per connected noise
// device on the lean engine, which a shard of more than
// simulator.LeanAbove devices runs: 10.6-11.2 KiB settled at 20,000
// devices and 11.5-16.0 KiB in the 100,000-device runs in docs/benchmarks.md
// ("100,000 devices: one fleet in shards"); the upper end is taken.
const simKiBPerDevice = 16

// simBaseMiB is what a shard holds before its first device: the fixture
// set built in memory, the binary, the histograms (146-150 MiB settled
// with the 100,000-device fixture set of the same run).
const simBaseMiB = 150

// manifests holds the objects of deploy/k8s, decoded strictly: a field the
// Kubernetes API does not know fails the test.
type manifests struct {
	jobs       map[string]*batchv1.Job
	configMaps map[string]*corev1.ConfigMap
	claims     map[string]*corev1.PersistentVolumeClaim
}

func load(t *testing.T, files ...string) manifests {
	t.Helper()
	m := manifests{jobs: map[string]*batchv1.Job{}, configMaps: map[string]*corev1.ConfigMap{},
		claims: map[string]*corev1.PersistentVolumeClaim{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			m.add(t, f+" document "+strconv.Itoa(i+1), []byte(doc))
		}
	}
	return m
}

func (m manifests) add(t *testing.T, where string, doc []byte) {
	t.Helper()
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var obj interface{ GetName() string }
	switch meta.APIVersion + " " + meta.Kind {
	case "batch/v1 Job":
		obj = &batchv1.Job{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	default:
		t.Fatalf("%s: %s %s is not a kind this test knows", where, meta.APIVersion, meta.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if obj.GetName() == "" {
		t.Fatalf("%s: no metadata.name", where)
	}
	switch o := obj.(type) {
	case *batchv1.Job:
		m.jobs[o.Name] = o
	case *corev1.ConfigMap:
		m.configMaps[o.Name] = o
	case *corev1.PersistentVolumeClaim:
		m.claims[o.Name] = o
	}
}

func TestSimulatorJob(t *testing.T) {
	m := load(t, "sim-job.yaml", "merge-job.yaml")
	job := m.jobs["shakedown-sim"]
	if job == nil {
		t.Fatal("sim-job.yaml: no Job shakedown-sim")
	}
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		got := "none"
		if spec.CompletionMode != nil {
			got = string(*spec.CompletionMode)
		}
		t.Errorf("the shards' Job must be Indexed (each pod reads its index), got completionMode %s", got)
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Parallelism != *spec.Completions {
		t.Errorf("parallelism must equal completions: the shards share one arrival schedule")
	}
	if spec.BackoffLimit == nil || *spec.BackoffLimit != 0 {
		t.Errorf("backoffLimit must be 0: a retried shard starts late and skews the schedule")
	}
	if len(spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Template.Spec.Containers))
	}
	c := spec.Template.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	idx, ok := env[simulator.EnvShardIndex]
	if !ok || idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil ||
		idx.ValueFrom.FieldRef.FieldPath != "metadata.annotations['"+batchv1.JobCompletionIndexAnnotation+"']" {
		t.Errorf("%s must come from the pod's %s annotation, got %+v", simulator.EnvShardIndex, batchv1.JobCompletionIndexAnnotation, idx)
	}
	if n := env[simulator.EnvShardCount].Value; spec.Completions != nil && n != strconv.Itoa(int(*spec.Completions)) {
		t.Errorf("%s = %q, want the Job's completions %d", simulator.EnvShardCount, n, *spec.Completions)
	}
	sc := scenario(t, m, c)
	checkMemory(t, c, sc, int(*spec.Completions))
	checkSharedResults(t, m, job)
}

// scenario parses the ConfigMap's scenario as `shakedown sim` will.
func scenario(t *testing.T, m manifests, c corev1.Container) simulator.Scenario {
	t.Helper()
	var path string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--scenario="); ok {
			path = v
		}
	}
	if path == "" {
		t.Fatalf("the container runs sim without --scenario=: %v", c.Args)
	}
	cm := m.configMaps["shakedown-sim"]
	if cm == nil {
		t.Fatal("sim-job.yaml: no ConfigMap shakedown-sim")
	}
	text, ok := cm.Data[path[strings.LastIndex(path, "/")+1:]]
	if !ok {
		t.Fatalf("the ConfigMap has no key for %s", path)
	}
	sc, err := simulator.ParseScenario(bytes.NewReader([]byte(text)))
	if err != nil {
		t.Fatalf("the ConfigMap's scenario: %v", err)
	}
	return sc
}

// checkMemory holds the pod's memory request to the measured cost of its
// shard: enough for every device, and not more than four times that.
func checkMemory(t *testing.T, c corev1.Container, sc simulator.Scenario, shards int) {
	t.Helper()
	perShard := (sc.Devices + shards - 1) / shards
	need := resource.NewQuantity(int64(perShard*simKiBPerDevice<<10+simBaseMiB<<20), resource.BinarySI)
	req, ok := c.Resources.Requests[corev1.ResourceMemory]
	if !ok {
		t.Fatal("the shard container requests no memory")
	}
	if req.Cmp(*need) < 0 {
		t.Errorf("memory request %s < %d MiB: %d devices a shard at %d KiB each plus %d MiB", req.String(), need.Value()>>20, perShard, simKiBPerDevice, simBaseMiB)
	}
	if four := need.Value() * 4; req.Value() > four {
		t.Errorf("memory request %s is over four times the %d MiB a shard needs", req.String(), need.Value()>>20)
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && lim.Cmp(req) < 0 {
		t.Errorf("memory limit %s below the request %s", lim.String(), req.String())
	}
}

// checkSharedResults: every shard writes into the claim the merge Job
// reads, and the merge Job merges the shard files.
func checkSharedResults(t *testing.T, m manifests, job *batchv1.Job) {
	t.Helper()
	merge := m.jobs["shakedown-sim-merge"]
	if merge == nil {
		t.Fatal("merge-job.yaml: no Job shakedown-sim-merge")
	}
	claim := func(j *batchv1.Job) string {
		for _, v := range j.Spec.Template.Spec.Volumes {
			if v.Name == "results" && v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName
			}
		}
		return ""
	}
	name := claim(job)
	if name == "" || claim(merge) != name {
		t.Errorf("the shards write to claim %q, the merge reads %q", name, claim(merge))
	}
	pvc := m.claims[name]
	if pvc == nil {
		t.Fatalf("no PersistentVolumeClaim %q", name)
	}
	if len(pvc.Spec.AccessModes) != 1 || pvc.Spec.AccessModes[0] != corev1.ReadWriteMany {
		t.Errorf("claim %s: every shard pod writes to it at once; want ReadWriteMany, got %v", name, pvc.Spec.AccessModes)
	}
	args := strings.Join(append(merge.Spec.Template.Spec.Containers[0].Command, merge.Spec.Template.Spec.Containers[0].Args...), " ")
	out := ""
	for _, a := range job.Spec.Template.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--out="); ok {
			out = v
		}
	}
	glob := strings.Replace(out, "$("+simulator.EnvShardIndex+")", "*", 1)
	if !strings.Contains(args, "results merge") || !strings.Contains(args, glob) || glob == out {
		t.Errorf("the merge Job must run `results merge` over the shards' files %s, got %q", glob, args)
	}
}
