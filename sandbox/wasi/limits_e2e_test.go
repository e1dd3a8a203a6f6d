package wasi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// TestLimitsEndTheCallAndTheNextWorks runs c-limits past each limit, then
// calls it again in a fresh instance, as the Host does for the next call.
func TestLimitsEndTheCallAndTheNextWorks(t *testing.T) {
	host := wasi.New(wasi.Config{StdoutLimit: 4096})
	rt := newRuntime(t, host)
	c := compile(t, rt, testcomponents.CLimits)
	tests := []struct {
		name   string
		fn     string
		args   []any
		memory uint64
		check  func(t *testing.T, res []any, err error, out wasi.Output)
	}{
		{name: "EndlessLoop", fn: "spin", check: func(t *testing.T, _ []any, err error, _ wasi.Output) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("spin ended with %v, want the deadline", err)
			}
		}},
		{name: "MemoryBomb", fn: "alloc-mb", args: []any{uint32(64)}, memory: 8 << 20, check: func(t *testing.T, res []any, err error, _ wasi.Output) {
			var le *component.LimitError
			if err != nil && !errors.As(err, &le) {
				t.Fatalf("alloc-mb ended with %v, want a memory LimitError or a short count", err)
			}
			if err == nil && res[0].(uint32) >= 8 {
				t.Errorf("alloc-mb(64) under 8 MiB got %d MiB", res[0])
			}
		}},
		{name: "StdoutFlood", fn: "print-lines", args: []any{"flood", uint32(100000)}, check: func(t *testing.T, _ []any, err error, out wasi.Output) {
			if err != nil {
				t.Fatal(err)
			}
			if !out.StdoutTruncated || !strings.Contains(string(out.Stdout), "StdoutLimit") || len(out.Stdout) > 4096+200 {
				t.Errorf("stdout: truncated=%v, %d bytes, tail %q", out.StdoutTruncated, len(out.Stdout), tail(out.Stdout))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The deadline stops spin; the other calls end well before it.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			inst, err := c.Instantiate(ctx, component.InstantiateOptions{MemoryLimit: tt.memory})
			if err != nil {
				t.Fatal(err)
			}
			res, err := inst.Call(ctx, c.Func(tt.fn), tt.args)
			tt.check(t, res, err, host.Output(inst))
			inst.Close(context.Background())

			res, err, _ = callOnce(t, host, c, []any{uint32(21)}, "double")
			if err != nil || res[0] != uint32(42) {
				t.Errorf("the next call: double(21) = %v, %v", res, err)
			}
		})
	}
}
