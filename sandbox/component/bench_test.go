package component_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

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
