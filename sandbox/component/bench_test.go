package component_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component"
)

// BenchmarkFreshInstanceCall measures what one tool call costs: a fresh
// instance, the call, and closing the instance.
func BenchmarkFreshInstanceCall(b *testing.B) {
	for _, bc := range []struct{ comp, tool, args string }{
		{"c-tool", "add", `{"a": 1, "b": 2}`},
		{"rust-tool", "fib", `{"n": 20}`},
		{"js-nowasi", "add", `{"a": 1, "b": 2}`},
	} {
		b.Run(bc.comp, func(b *testing.B) {
			e := runtimeFor(&testing.T{})
			_ = e
			c := benchCompile(b, bc.comp)
			var tl *component.Tool
			for _, x := range c.Tools() {
				if x.Name == bc.tool {
					tl = &x
				}
			}
			ctx := context.Background()
			args := json.RawMessage(bc.args)
			b.ReportAllocs()
			for b.Loop() {
				inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := inst.CallJSON(ctx, tl.Func, args); err != nil {
					b.Fatal(err)
				}
				inst.Close(ctx)
			}
		})
	}
}

func benchCompile(b *testing.B, name string) *component.Component {
	b.Helper()
	wasm, err := os.ReadFile(testcomponents.Path(b, name))
	if err != nil {
		b.Fatal(err)
	}
	e := shared
	c, err := e.rt.Compile(context.Background(), wasm)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// BenchmarkPooledCall measures a call on a fresh instance taken from a Pool,
// which instantiates ahead of time in the background: what a tool call costs
// when calls do not arrive faster than the pool refills.
func BenchmarkPooledCall(b *testing.B) {
	for _, bc := range []struct{ comp, tool, args string }{
		{"c-tool", "add", `{"a": 1, "b": 2}`},
		{"rust-tool", "fib", `{"n": 20}`},
		{"js-nowasi", "add", `{"a": 1, "b": 2}`},
	} {
		b.Run(bc.comp, func(b *testing.B) {
			runtimeFor(&testing.T{})
			c := benchCompile(b, bc.comp)
			var tl *component.Tool
			for _, x := range c.Tools() {
				if x.Name == bc.tool {
					tl = &x
				}
			}
			pool := c.NewPool(context.Background(), component.InstantiateOptions{}, 4)
			defer pool.Close()
			ctx := context.Background()
			args := json.RawMessage(bc.args)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				// Let the pool refill, as it does between a person's calls.
				for pool.Ready() == 0 {
					time.Sleep(100 * time.Microsecond)
				}
				b.StartTimer()
				inst, err := pool.Get(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := inst.CallJSON(ctx, tl.Func, args); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				inst.Close(ctx)
				b.StartTimer()
			}
		})
	}
}
