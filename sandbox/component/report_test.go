package component_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// TestSpeedReport prints the runtime's speed figures beside the same work
// done by the reference host (jco transpile + node, V8), measured in the
// same run, with their ratios. It asserts nothing about time: these
// machines are shared and noisy. `make bench` runs it.
func TestSpeedReport(t *testing.T) {
	if os.Getenv("TAPEDECK_BENCH") == "" {
		t.Skip("a report, not a test: `make bench` runs it with TAPEDECK_BENCH=1")
	}
	node, script := testcomponents.ReferenceHost(t)
	ctx := context.Background()
	type row struct {
		what       string
		target     string
		tapedeck   time.Duration
		reference  time.Duration
		refComment string
	}
	var rows []row

	// First load ever (empty cache) until the first answer, and a warm load
	// from the on-disk cache in a new runtime, as a new process has.
	cache := t.TempDir()
	firstCall := func() time.Duration {
		start := time.Now()
		rt, err := component.NewRuntime(ctx, component.Config{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(ctx)
		wasm, err := os.ReadFile(testcomponents.Path(t, "js-nowasi"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.CallJSON(ctx, c.Func("greet"), json.RawMessage(`{"name":"x"}`)); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		inst.Close(ctx)
		c.WaitCompiled(ctx) // let the compiler fill the cache before the warm load
		return d
	}
	nodeOnce := func() time.Duration {
		start := time.Now()
		out, err := exec.Command(node, script, testcomponents.Transpiled(t, "js-nowasi"), "greet", `"x"`).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	cold := firstCall()
	warm := firstCall()
	nodeFirst := nodeOnce()
	rows = append(rows,
		row{"JS tool: load (empty cache) to first answer", "≤ 1 s", cold, nodeFirst, "node start + import + first call"},
		row{"JS tool: load from the cache to first answer", "≤ 300 ms", warm, nodeFirst, "node start + import + first call"})

	// A call on a fresh instance: Tapedeck's per-call isolation, from a
	// pool that instantiates ahead of time, and without the pool.
	reg := component.NewRegistry()
	wasi.New(wasi.Config{}).Register(reg)
	rt, err := component.NewRuntime(ctx, component.Config{CacheDir: cache, Hosts: reg, NoInterpreterFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	for _, bc := range []struct{ comp, fn, args, nodeArgs, target string }{
		{"c-tool", "add", `{"a":1,"b":2}`, `1 2`, "≤ 200 µs"},
		{"rust-tool", "fib", `{"n":20}`, `20`, "≤ 200 µs"},
		{"js-nowasi", "add", `{"a":1,"b":2}`, `1 2`, "≤ 3 ms"},
	} {
		wasm, err := os.ReadFile(testcomponents.Path(t, bc.comp))
		if err != nil {
			t.Fatal(err)
		}
		c, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		f := c.Func(bc.fn)
		args := json.RawMessage(bc.args)
		pool := c.NewPool(ctx, component.InstantiateOptions{}, 2)
		const n = 200
		pooled, fresh := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
		for range n {
			for pool.Ready() == 0 {
				time.Sleep(100 * time.Microsecond)
			}
			start := time.Now()
			inst, err := pool.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inst.CallJSON(ctx, f, args); err != nil {
				t.Fatal(err)
			}
			pooled = append(pooled, time.Since(start))
			inst.Close(ctx)

			start = time.Now()
			inst, err = c.Instantiate(ctx, component.InstantiateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inst.CallJSON(ctx, f, args); err != nil {
				t.Fatal(err)
			}
			fresh = append(fresh, time.Since(start))
			inst.Close(ctx)
		}
		pool.Close()
		c.Close(ctx)
		ref := nodeBench(t, node, script, bc.comp, bc.fn, strings.Fields(bc.nodeArgs))
		rows = append(rows,
			row{bc.comp + ": fresh instance from the pool + call, p50", bc.target, p50(pooled), ref, "one warm instance, mean per call"},
			row{bc.comp + ": instantiate + call, p50", "", p50(fresh), ref, "one warm instance, mean per call"})
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-52s %-9s %12s %12s %8s  %s\n", "measure", "target", "tapedeck", "jco+node", "ratio", "reference measures")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-52s %-9s %12s %12s %7.2fx  %s\n", r.what, r.target, r.tapedeck.Round(time.Microsecond),
			r.reference.Round(time.Microsecond), float64(r.tapedeck)/float64(r.reference), r.refComment)
	}
	t.Log(b.String())
	if out := os.Getenv("TAPEDECK_BENCH_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.WriteString(b.String())
	}
}

func p50(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// nodeBench asks the reference host for the mean time of n calls on one
// instance.
func nodeBench(t *testing.T, node, script, comp, fn string, args []string) time.Duration {
	t.Helper()
	cmdArgs := append([]string{script, testcomponents.Transpiled(t, comp), "--bench", "2000", fn}, args...)
	out, err := exec.Command(node, cmdArgs...).Output()
	if err != nil {
		t.Fatalf("node --bench %s %s: %v", comp, fn, err)
	}
	var r struct {
		NsPerOp float64 `json:"ns_per_op"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("node --bench output %q: %v", out, err)
	}
	return time.Duration(r.NsPerOp)
}
