package wasi_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// These tests run components built by real toolchains (`make testdata`)
// against the WASI host: they link (every WASI function type-checks against
// what the toolchain declared), and their calls see what the host serves.

func newRuntime(t *testing.T, host *wasi.Host) *component.Runtime {
	t.Helper()
	reg := component.NewRegistry()
	host.Register(reg)
	rt, err := component.NewRuntime(context.Background(), component.Config{
		Hosts:    reg,
		CacheDir: os.Getenv(testcomponents.EnvCacheDir),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func compile(t *testing.T, rt *component.Runtime, name string) *component.Component {
	t.Helper()
	wasm, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatalf("compiling %s against the WASI host: %v", name, err)
	}
	return c
}

// callOnce calls a function in a fresh instance and returns the results,
// the error and the instance's captured output.
func callOnce(t *testing.T, host *wasi.Host, c *component.Component, args []any, path ...string) ([]any, error, wasi.Output) {
	t.Helper()
	ctx := context.Background()
	f := c.Func(path...)
	if f == nil {
		t.Fatalf("no export %v", path)
	}
	inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	defer inst.Close(ctx)
	res, err := inst.Call(ctx, f, args)
	return res, err, host.Output(inst)
}

func TestComponentsLinkAgainstWASI(t *testing.T) {
	host := wasi.New(wasi.Config{})
	rt := newRuntime(t, host)
	// js-alltypes also imports a custom host interface, and js-nowasi
	// imports nothing; every other component imports WASI only.
	for _, name := range []string{
		testcomponents.JSWASI, testcomponents.JSFetch, testcomponents.CTool, testcomponents.CToolOld,
		testcomponents.CFiles, testcomponents.CEnv, testcomponents.CLimits,
		testcomponents.RustTool, testcomponents.GoCmd,
	} {
		t.Run(name, func(t *testing.T) {
			compile(t, rt, name)
		})
	}
}

func TestComponentsUseWASI(t *testing.T) {
	host := wasi.New(wasi.Config{StdoutLimit: 4096})
	rt := newRuntime(t, host)

	t.Run("c-tool-stdout", func(t *testing.T) {
		c := compile(t, rt, testcomponents.CTool)
		res, err, out := callOnce(t, host, c, []any{"Ada"}, "greet")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out.Stdout), "greeting Ada") {
			t.Errorf("stdout = %q, result %v; want the greeting printed", out.Stdout, res)
		}
	})
	t.Run("js-wasi", func(t *testing.T) {
		c := compile(t, rt, testcomponents.JSWASI)
		res, err, out := callOnce(t, host, c, []any{"hi"}, "shout")
		if err != nil {
			t.Fatal(err)
		}
		if res[0] != "HI" || !strings.Contains(string(out.Stdout), "shout: HI") {
			t.Errorf("shout = %v, stdout %q", res, out.Stdout)
		}
		if res, err, _ := callOnce(t, host, c, nil, "now-ms"); err != nil || res[0].(uint64) < 1_700_000_000_000 {
			t.Errorf("now-ms = %v, %v; want the wall clock in ms", res, err)
		}
		if _, err, _ := callOnce(t, host, c, nil, "random-u32"); err != nil {
			t.Errorf("random-u32: %v", err)
		}
	})
	t.Run("go-cmd-exit", func(t *testing.T) {
		c := compile(t, rt, testcomponents.GoCmd)
		run := c.Funcs()[0].Path
		_, err, out := callOnce(t, host, c, nil, run...)
		var exit *wasi.ExitError
		if err != nil && (!errors.As(err, &exit) || exit.Code != 0) {
			t.Fatalf("run = %v, want success or exit(0)", err)
		}
		t.Logf("run ended with %v", err)
		if !strings.Contains(string(out.Stdout), "0 environment variables") || !strings.Contains(string(out.Stderr), "go-cmd: done") {
			t.Errorf("stdout %q, stderr %q", out.Stdout, out.Stderr)
		}
	})
	t.Run("c-env-empty", func(t *testing.T) {
		t.Setenv("TAPEDECK_TEST_LEAK", "must not be seen")
		c := compile(t, rt, testcomponents.CEnv)
		res, err, _ := callOnce(t, host, c, nil, "env-keys")
		if err != nil {
			t.Fatal(err)
		}
		if keys := res[0].([]any); len(keys) != 0 {
			t.Errorf("env-keys = %v, want none", keys)
		}
		if res, _, _ := callOnce(t, host, c, []any{"TAPEDECK_TEST_LEAK"}, "get-env"); res[0] != (types.VariantValue{}) {
			t.Errorf("get-env = %v, want none", res)
		}
	})
	t.Run("c-files-denied", func(t *testing.T) {
		c := compile(t, rt, testcomponents.CFiles)
		res, err, _ := callOnce(t, host, c, []any{"/etc/hostname"}, "read-file")
		if err != nil {
			t.Fatal(err)
		}
		if r := res[0].(types.VariantValue); r.Case != 1 {
			t.Errorf("read-file = %#v, want an error (no preopens)", r)
		}
	})
	t.Run("c-limits-stdout-flood", func(t *testing.T) {
		c := compile(t, rt, testcomponents.CLimits)
		_, err, out := callOnce(t, host, c, []any{"flood", uint32(100000)}, "print-lines")
		if err != nil {
			t.Fatal(err)
		}
		if !out.StdoutTruncated || !strings.Contains(string(out.Stdout), "StdoutLimit") {
			t.Errorf("stdout of a flood: truncated=%v, tail %q", out.StdoutTruncated, tail(out.Stdout))
		}
	})
}

// TestFetchBuildsRequestThenDenied checks that componentize-js's fetch gets
// as far as outgoing-handler.handle (so every wasi:http/types call it makes
// to build the request is served) and is refused there.
func TestFetchBuildsRequestThenDenied(t *testing.T) {
	host := wasi.New(wasi.Config{})
	reg := component.NewRegistry()
	host.Register(reg)
	handler := reg.Lookup("wasi:http/outgoing-handler@0.2")
	var handled atomic.Int32
	spy := &component.HostInterface{Name: handler.Name, Resources: handler.Resources, Funcs: map[string]component.HostFunc{}}
	for name, f := range handler.Funcs {
		spy.Funcs[name] = f
	}
	real := handler.Funcs["handle"]
	spy.Funcs["handle"] = component.HostFunc{Type: real.Type, Fn: func(ctx context.Context, args []any) ([]any, error) {
		handled.Add(1)
		return real.Fn(ctx, args)
	}}
	reg.Add(spy)
	rt, err := component.NewRuntime(context.Background(), component.Config{Hosts: reg, CacheDir: os.Getenv(testcomponents.EnvCacheDir)})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())

	c := compile(t, rt, testcomponents.JSFetch)
	res, err, _ := callOnce(t, host, c, []any{"http://127.0.0.1:9/", "x-test", "1"}, "fetch-with-header")
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0].(types.VariantValue); r.Case != 1 {
		t.Errorf("fetch-with-header = %#v, want err (HTTP is denied)", r)
	} else {
		t.Logf("the error the guest saw: %v", r.Value)
	}
	if handled.Load() != 1 {
		t.Errorf("outgoing-handler.handle was called %d times, want 1: the guest did not get to send its request", handled.Load())
	}
}

func tail(b []byte) string {
	if len(b) > 200 {
		b = b[len(b)-200:]
	}
	return string(b)
}
