package mcpbridge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

// TestSpeedReport prints issue 4's speed figures: a component tool's
// tools/call over the local socket beside a native Go tool on the same
// transport (the fake backend's echo), 1,000 calls from 4 clients, and
// start-up to a listed tool set with 20 components installed. It asserts
// nothing about time (shared, noisy machines): `make bench` runs it.
func TestSpeedReport(t *testing.T) {
	if os.Getenv("TAPEDECK_BENCH") == "" {
		t.Skip("a report, not a test: `make bench` runs it with TAPEDECK_BENCH=1")
	}
	ctx := context.Background()
	const n = 300
	measure := func(cs *mcp.ClientSession, name string, args map[string]any) time.Duration {
		params := &mcp.CallToolParams{Name: name, Arguments: args}
		ds := make([]time.Duration, 0, n)
		for range n {
			start := time.Now()
			res, err := cs.CallTool(ctx, params)
			if err != nil || res.IsError {
				t.Fatalf("%s: %v %+v", name, err, res)
			}
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}

	fb := newFakeBackend()
	fb.addComponent(echoComponent("echo"))
	native := measure(socketSession(t, serveSocket(t, newServer(t, fb, Options{}))), "echo", map[string]any{"message": "x"})

	host, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), CacheDir: testcomponents.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(ctx)
	for _, c := range []string{"c-tool", "rust-tool", "js-nowasi"} {
		if _, err := host.Load(ctx, testcomponents.Path(t, c), sandbox.LoadOptions{Client: sandbox.Client{Transport: "cli"}}); err != nil {
			t.Fatal(err)
		}
	}
	srv := New(host, Options{})
	defer srv.Close()
	path := serveSocket(t, srv)
	cs := socketSession(t, path)
	type row struct {
		what, target string
		d            time.Duration
		ratio        bool
	}
	rows := []row{
		{"native Go tool (baseline), tools/call p50", "", native, false},
		{"C tool (c-tool add), tools/call p50", "≤ 2× baseline", measure(cs, "add", map[string]any{"a": 1, "b": 2}), true},
		{"Rust tool (rust-tool fib), tools/call p50", "≤ 2× baseline", measure(cs, "fib", map[string]any{"n": 20}), true},
		{"JS tool (js-nowasi greet), tools/call p50", "≤ 4 ms", measure(cs, "greet", map[string]any{"name": "x"}), true},
	}

	// 1,000 calls from 4 clients at once.
	sessions := []*mcp.ClientSession{cs, socketSession(t, path), socketSession(t, path), socketSession(t, path)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := 0
	start := time.Now()
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 250 {
				res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
				if err != nil || res.IsError {
					mu.Lock()
					errs++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	burst := time.Since(start)
	if errs > 0 {
		t.Errorf("%d of 1,000 concurrent calls failed", errs)
	}

	// Start-up with 20 components installed: tools listed from metadata.
	dir := t.TempDir()
	seed, err := sandbox.New(ctx, sandbox.Options{Dir: dir, CacheDir: testcomponents.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(testcomponents.Path(t, "c-tool"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("tool%02d.wasm", i))
		if err := os.WriteFile(p, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := seed.Load(ctx, p, sandbox.LoadOptions{Client: sandbox.Client{Transport: "cli"}}); err != nil {
			t.Fatal(err)
		}
	}
	seed.Close(ctx)
	start = time.Now()
	h2, err := sandbox.New(ctx, sandbox.Options{Dir: dir, CacheDir: testcomponents.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	listed := len(h2.Tools())
	startup := time.Since(start)
	h2.Close(ctx)
	if listed != 80 {
		t.Errorf("start-up listed %d tools, want 80", listed)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-48s %-14s %12s %8s\n", "measure (local socket, go-sdk client)", "target", "time", "ratio")
	for _, r := range rows {
		ratio := ""
		if r.ratio {
			ratio = fmt.Sprintf("%.2fx", float64(r.d)/float64(native))
		}
		fmt.Fprintf(&b, "%-48s %-14s %12s %8s\n", r.what, r.target, r.d.Round(time.Microsecond), ratio)
	}
	fmt.Fprintf(&b, "%-48s %-14s %12s %8s\n", fmt.Sprintf("1,000 calls from 4 clients (%d errors)", errs), "no errors", burst.Round(time.Millisecond), "")
	fmt.Fprintf(&b, "%-48s %-14s %12s %8s\n", fmt.Sprintf("start-up to %d listed tools, 20 components", listed), "≤ 200 ms", startup.Round(time.Microsecond), "")
	t.Log(b.String())
	appendReport(t, b.String())
}

func appendReport(t *testing.T, s string) {
	out := os.Getenv("TAPEDECK_BENCH_OUT")
	if out == "" {
		return
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	f.WriteString(s)
}
