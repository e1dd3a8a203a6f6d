package component_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// testHost is the host side of js-alltypes' custom import tapedeck:test/host.
type testHost struct {
	mu   sync.Mutex
	logs []string
	// held receives a channel when the guest logs "hold", and the guest
	// stays in the host call until it is closed: a test can act while a
	// call is running.
	held chan chan struct{}
}

func (h *testHost) iface() *component.HostInterface {
	return &component.HostInterface{
		Name: "tapedeck:test/host@0.1",
		Funcs: map[string]component.HostFunc{
			"log": {
				Type: &types.Func{Params: []types.Param{{Name: "msg", Type: types.StringType}}},
				Fn: func(ctx context.Context, args []any) ([]any, error) {
					if args[0] == "hold" {
						resume := make(chan struct{})
						h.held <- resume
						<-resume
					}
					h.mu.Lock()
					h.logs = append(h.logs, args[0].(string))
					h.mu.Unlock()
					return nil, nil
				},
			},
			"add-one": {
				Type: &types.Func{Params: []types.Param{{Name: "x", Type: types.U32Type}}, Results: []types.Param{{Type: types.U32Type}}},
				Fn: func(ctx context.Context, args []any) ([]any, error) {
					return []any{args[0].(uint32) + 1}, nil
				},
			},
		},
	}
}

type env struct {
	rt   *component.Runtime
	wasi *wasi.Host
	host *testHost

	mu    sync.Mutex
	comps map[string]*component.Component
}

var (
	sharedOnce sync.Once
	shared     *env
	sharedErr  error
)

// runtimeFor returns one runtime for the whole test binary, with the shared
// compilation cache: a JS component takes seconds to compile, once.
func runtimeFor(t *testing.T) *env {
	t.Helper()
	cache := testcomponents.CacheDir(t)
	sharedOnce.Do(func() {
		e := &env{host: &testHost{held: make(chan chan struct{})}, comps: map[string]*component.Component{}}
		e.wasi = wasi.New(wasi.Config{})
		reg := component.NewRegistry(e.host.iface())
		e.wasi.Register(reg)
		e.rt, sharedErr = component.NewRuntime(context.Background(), component.Config{CacheDir: cache, Hosts: reg})
		shared = e
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func (e *env) compile(t *testing.T, name string) *component.Component {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.comps[name]; ok {
		return c
	}
	wasm, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.rt.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	e.comps[name] = c
	return c
}

func tool(t *testing.T, c *component.Component, name string) *component.Tool {
	t.Helper()
	var names []string
	for _, tl := range c.Tools() {
		if tl.Name == name {
			return &tl
		}
		names = append(names, tl.Name)
	}
	t.Fatalf("no tool %q; have %v", name, names)
	return nil
}

// instance compiles comp (once) and makes a fresh instance of it, which
// the caller closes.
func (e *env) instance(t *testing.T, comp string) (*component.Component, *component.Instance) {
	t.Helper()
	c := e.compile(t, comp)
	inst, err := c.Instantiate(context.Background(), component.InstantiateOptions{})
	if err != nil {
		t.Fatalf("instantiate %s: %v", comp, err)
	}
	return c, inst
}

// callJSON makes one call on a fresh instance, as Tapedeck does per tool call.
func (e *env) callJSON(t *testing.T, comp, toolName, args string) (*component.JSONResult, error) {
	t.Helper()
	c, inst := e.instance(t, comp)
	ctx := context.Background()
	defer inst.Close(ctx)
	return inst.CallJSON(ctx, tool(t, c, toolName).Func, json.RawMessage(args))
}

func mustJSON(t *testing.T, res *component.JSONResult, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Structured)
}

func TestToolchainComponents(t *testing.T) {
	e := runtimeFor(t)
	tests := []struct {
		comp, tool, args, want string
	}{
		{"c-tool", "add", `{"a": 2, "b": 40}`, `{"result":42}`},
		{"c-tool", "reverse", `{"s": "héllo"}`, `{"result":"olléh"}`},
		{"c-tool", "count-words", `{"s": "one two  three"}`, `{"result":3}`},
		{"c-tool-old", "add", `{"a": 7, "b": 8}`, `{"result":15}`},
		{"c-tool-old", "reverse", `{"s": "abc"}`, `{"result":"cba"}`},
		{"rust-tool", "fib", `{"n": 50}`, `{"result":12586269025}`},
		{"rust-tool", "upper", `{"s": "rust"}`, `{"result":"RUST"}`},
		{"js-nowasi", "greet", `{"name": "Ana"}`, `{"result":"Hello, Ana!"}`},
		{"js-nowasi", "add", `{"a": -5, "b": 3}`, `{"result":-2}`},
		{"js-nowasi", "tapedeck_nowasi_text_0_1_0_reverse", `{"s": "abc"}`, `{"result":"cba"}`},
		{"js-wasi", "shout", `{"s": "hi"}`, `{"result":"HI"}`},
		{"js-wasi", "checked-div", `{"a": 7, "b": 2}`, `{"result":{"ok":3}}`},
		{"js-wasi", "checked-div", `{"a": 7, "b": 0}`, `{"result":{"err":"division by zero"}}`},
		{"c-limits", "double", `{"x": 21}`, `{"result":42}`},
		// A Go command's run ends with exit(0): the call succeeds.
		{"go-cmd", "wasi_cli_run_0_2_12_run", `{}`, `{"result":{"ok":null}}`},
		// rust-noinit runs its constructors inside each export; fib needs none.
		{"rust-noinit", "fib", `{"n": 10}`, `{"result":55}`},
	}
	for _, tt := range tests {
		t.Run(tt.comp+"/"+tt.tool, func(t *testing.T) {
			res, err := e.callJSON(t, tt.comp, tt.tool, tt.args)
			if got := mustJSON(t, res, err); got != tt.want {
				t.Errorf("%s(%s) = %s, want %s", tt.tool, tt.args, got, tt.want)
			}
		})
	}
}

func TestCustomHostImport(t *testing.T) {
	e := runtimeFor(t)
	res, err := e.callJSON(t, "js-alltypes", "call-host", `{"x": 41, "msg": "from the guest"}`)
	if got := mustJSON(t, res, err); got != `{"result":42}` {
		t.Fatalf("call-host = %s, want 42", got)
	}
	e.host.mu.Lock()
	defer e.host.mu.Unlock()
	found := false
	for _, l := range e.host.logs {
		found = found || l == "from the guest"
	}
	if !found {
		t.Fatalf("the host import log was not called with the message; logs: %q", e.host.logs)
	}
}

// TestTrapEndsTheCallOnly checks that a guest trap ends that call with a
// clear error and the next call (a fresh instance) works.
func TestTrapEndsTheCallOnly(t *testing.T) {
	e := runtimeFor(t)
	_, err := e.callJSON(t, "js-wasi", "fail", `{"msg": "boom"}`)
	var trap *component.TrapError
	if !errors.As(err, &trap) {
		t.Fatalf("fail() error = %v (%T), want a *TrapError", err, err)
	}
	res, err := e.callJSON(t, "js-wasi", "shout", `{"s": "after"}`)
	if got := mustJSON(t, res, err); got != `{"result":"AFTER"}` {
		t.Fatalf("call after a trap = %s", got)
	}
	// Without _initialize, rust-noinit's constructors run inside
	// cabi_post_upper, where calling an import is forbidden: a clean trap.
	_, err = e.callJSON(t, "rust-noinit", "upper", `{"s": "x"}`)
	if !errors.As(err, &trap) || !strings.Contains(err.Error(), "may not call out of the component") {
		t.Fatalf("rust-noinit upper: err = %v, want a may_leave trap", err)
	}
	res, err = e.callJSON(t, "rust-noinit", "fib", `{"n": 3}`)
	if got := mustJSON(t, res, err); got != `{"result":2}` {
		t.Fatalf("call after the trap = %s", got)
	}
}

func TestBadArgumentsNameThePath(t *testing.T) {
	e := runtimeFor(t)
	_, err := e.callJSON(t, "c-tool", "add", `{"a": 1, "b": "two"}`)
	var ae *component.ArgumentError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "b") {
		t.Fatalf("error = %v, want an ArgumentError naming b", err)
	}
}

func TestDeadlineStopsALoop(t *testing.T) {
	e := runtimeFor(t)
	c := e.compile(t, "c-limits")
	inst, err := c.Instantiate(context.Background(), component.InstantiateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = inst.CallJSON(ctx, tool(t, c, "spin").Func, json.RawMessage(`{}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("spin error = %v, want context.DeadlineExceeded", err)
	}
	res, err := e.callJSON(t, "c-limits", "double", `{"x": 2}`)
	if got := mustJSON(t, res, err); got != `{"result":4}` {
		t.Fatalf("call after a timeout = %s", got)
	}
}

func TestMemoryLimit(t *testing.T) {
	e := runtimeFor(t)
	c := e.compile(t, "c-limits")
	ctx := context.Background()
	inst, err := c.Instantiate(ctx, component.InstantiateOptions{MemoryLimit: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	// The guest stops allocating when memory.grow fails: it gets fewer
	// megabytes than it asked for, and the host's memory stays bounded.
	res, err := inst.CallJSON(ctx, tool(t, c, "alloc-mb").Func, json.RawMessage(`{"mb": 64}`))
	if err != nil {
		var le *component.LimitError
		if !errors.As(err, &le) {
			t.Fatalf("alloc-mb error = %v, want a LimitError or a short count", err)
		}
		return
	}
	var got struct{ Result int }
	if err := json.Unmarshal(res.Structured, &got); err != nil {
		t.Fatal(err)
	}
	if got.Result >= 8 {
		t.Fatalf("alloc-mb(64) under an 8 MiB limit got %d MiB", got.Result)
	}
	var le *component.LimitError
	if err := inst.MemoryLimitReached(); !errors.As(err, &le) || !strings.Contains(err.Error(), "8 MiB") {
		t.Fatalf("MemoryLimitReached() = %v, want the limit named", err)
	}
}

// TestCloseDuringCall closes an instance while its guest is inside a host
// call: the guest may still touch its memory when the host call returns, so
// the memory must stay until the call has ended, and go then.
func TestCloseDuringCall(t *testing.T) {
	e := runtimeFor(t)
	c, inst := e.instance(t, "js-alltypes")
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := inst.Call(ctx, c.Func("call-host"), []any{uint32(1), "hold"})
		done <- err
	}()
	resume := <-e.host.held
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if component.MemoriesReleased(inst) {
		t.Fatal("Close released the memories of an instance still in a call")
	}
	close(resume)
	<-done // the call fails or not: its instance was closed under it
	if !component.MemoriesReleased(inst) {
		t.Fatal("the memories of a closed instance were not released when its call ended")
	}
	if _, err := inst.Call(ctx, c.Func("call-host"), []any{uint32(1), "x"}); err == nil {
		t.Fatal("a call on a closed instance succeeded")
	}
}

func TestConcurrentCallsOnOneComponent(t *testing.T) {
	e := runtimeFor(t)
	e.compile(t, "c-tool")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.callJSON(t, "c-tool", "add", `{"a": 1, "b": `+strings.Repeat("1", 1+i%3)+`}`)
			if err != nil {
				errs <- err
				return
			}
			if len(res.Structured) == 0 {
				errs <- errors.New("empty result")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestMissingImportNamesIt(t *testing.T) {
	wasm, err := os.ReadFile(testcomponents.Path(t, "js-alltypes"))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := component.NewRuntime(context.Background(), component.Config{CacheDir: testcomponents.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	_, err = rt.Compile(context.Background(), wasm)
	var le *component.LinkError
	if !errors.As(err, &le) || le.Import != "tapedeck:test/host@0.1.0" {
		t.Fatalf("Compile without the host import = %v, want a LinkError naming tapedeck:test/host@0.1.0", err)
	}
}

func TestPoolHandsOutFreshInstances(t *testing.T) {
	e := runtimeFor(t)
	c := e.compile(t, "js-alltypes")
	pool := c.NewPool(context.Background(), component.InstantiateOptions{}, 2)
	defer pool.Close()
	ctx := context.Background()
	seen := map[*component.Instance]bool{}
	for range 5 {
		inst, err := pool.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[inst] {
			t.Fatal("the pool handed out an instance twice")
		}
		seen[inst] = true
		res, err := inst.CallJSON(ctx, tool(t, c, "call-host").Func, json.RawMessage(`{"x": 1, "msg": "pool"}`))
		if got := mustJSON(t, res, err); got != `{"result":2}` {
			t.Fatalf("call-host on a pooled instance = %s", got)
		}
		inst.Close(ctx)
	}
}

// TestExportedResource drives js-alltypes' counter resource from the host:
// a constructor and a function returning own<counter>, methods taking
// borrow<counter>, a static taking two borrows, and a function consuming an
// own — all on one instance, as a guest-defined resource lives there.
func TestExportedResource(t *testing.T) {
	c, inst := runtimeFor(t).instance(t, "js-alltypes")
	ctx := context.Background()
	defer inst.Close(ctx)
	const iface = "tapedeck:test/types@0.1.0"
	fn := func(name string) *component.Func {
		f := c.Func(iface, name)
		if f == nil {
			t.Fatalf("no export %s#%s", iface, name)
		}
		return f
	}
	call := func(name string, args ...any) any {
		t.Helper()
		res, err := inst.Call(ctx, fn(name), args)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res) == 0 {
			return nil
		}
		return res[0]
	}
	a := call("[constructor]counter", uint32(5)).(types.Handle)
	if got := call("[method]counter.inc", a); got != uint32(6) {
		t.Fatalf("inc = %v, want 6", got)
	}
	b := call("make-counter", uint32(10)).(types.Handle)
	if got := call("counter-value", b); got != uint32(10) {
		t.Fatalf("counter-value = %v, want 10", got)
	}
	sum := call("[static]counter.merge", a, b).(types.Handle)
	if got := call("[method]counter.value", sum); got != uint32(16) {
		t.Fatalf("merged value = %v, want 16", got)
	}
	if got := call("consume-counter", sum); got != uint32(16) {
		t.Fatalf("consume-counter = %v, want 16", got)
	}
	// The tool bridge refuses resource functions with a reason, rather than
	// offering tools no JSON client can call.
	for _, tl := range c.Tools() {
		if strings.HasSuffix(tl.Name, "make-counter") && tl.Unavailable == "" {
			t.Errorf("tool %s takes or returns a resource but is offered to JSON clients", tl.Name)
		}
	}
}

// TestHandWrittenFixtures runs the valid hand-written fixtures through the
// whole runtime: the flattening boundaries, a nested component that
// re-exports, and type imports.
func TestHandWrittenFixtures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		fixture string
		path    []string
		args    []any
		want    any
	}{
		{"flatten", []string{"sum16"}, int32Args(16), int32(136)},
		{"flatten", []string{"sum17"}, int32Args(17), int32(153)},
		{"flatten", []string{"widen"}, []any{uint32(math.MaxUint32)}, uint64(math.MaxUint32) << 32},
		{"flatten", []string{"pair"}, []any{uint32(41)}, []any{uint32(41), uint32(42)}},
		{"nested-reexport", []string{"double"}, []any{uint32(21)}, uint32(42)},
		{"nested-reexport", []string{"tapedeck:fixtures/math@0.1.0", "negate"}, []any{int32(5)}, int32(-5)},
		{"type-import", []string{"tapedeck:fixtures/geometry@0.1.0", "swap"}, []any{[]any{int32(1), int32(2)}}, []any{int32(2), int32(1)}},
	}
	reg := component.NewRegistry(&component.HostInterface{
		Name:      "tapedeck:fixtures/handles@0.1",
		Resources: map[string]*types.Resource{"handle": {Name: "handle", Interface: "tapedeck:fixtures/handles@0.1.0"}},
	})
	rt, err := component.NewRuntime(ctx, component.Config{CacheDir: testcomponents.CacheDir(t), Hosts: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+strings.Join(tt.path, "#"), func(t *testing.T) {
			wasm, err := os.ReadFile(testcomponents.Fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			c, err := rt.Compile(ctx, wasm)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			f := c.Func(tt.path...)
			if f == nil {
				t.Fatalf("no export %v", tt.path)
			}
			inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(ctx)
			got, err := inst.Call(ctx, f, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Fatalf("%v = %#v, want %#v", tt.path, got[0], tt.want)
			}
		})
	}
}

func int32Args(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = int32(i + 1)
	}
	return out
}

// TestInterpreterFirst loads a component whose native code is not ready in
// time (told to wait 1 ns): calls work at once, served by the interpreter
// while native code compiles, and keep working once the component has moved
// to native code. The speed report measures the real case (a 12 MB
// JavaScript engine with a cold cache).
func TestInterpreterFirst(t *testing.T) {
	ctx := context.Background()
	reg := component.NewRegistry()
	wasi.New(wasi.Config{}).Register(reg)
	rt, err := component.NewRuntime(ctx, component.Config{CacheDir: t.TempDir(), Hosts: reg, InterpreterAfter: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	wasm, err := os.ReadFile(testcomponents.Path(t, "c-tool"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	t.Logf("served by the interpreter right after Compile: %v", c.Interpreted())
	add := func() {
		t.Helper()
		inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Close(ctx)
		res, err := inst.CallJSON(ctx, c.Func("add"), json.RawMessage(`{"a": 40, "b": 2}`))
		if got := mustJSON(t, res, err); got != `{"result":42}` {
			t.Fatalf("add = %s", got)
		}
	}
	add()
	if err := c.WaitCompiled(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Interpreted() {
		t.Fatal("still interpreted after WaitCompiled")
	}
	add()
}
