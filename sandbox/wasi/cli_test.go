package wasi

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// logRecorder is an OutputLog that records what it is given, per instance.
type logRecorder struct {
	mu    sync.Mutex
	lines map[*component.Instance]*bytes.Buffer
}

func (l *logRecorder) log(ctx context.Context, s Stream, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	inst := component.InstanceFromContext(ctx)
	if l.lines[inst] == nil {
		l.lines[inst] = &bytes.Buffer{}
	}
	l.lines[inst].WriteString(s.String() + ":" + string(p) + ";")
}

func writeAll(c *caller, out any, text string) types.VariantValue {
	c.t.Helper()
	return c.call(streamsIface, "[method]output-stream.blocking-write-and-flush", out, bytesValue([]byte(text))).(types.VariantValue)
}

func TestStdoutAndStderrCaptured(t *testing.T) {
	rec := &logRecorder{lines: map[*component.Instance]*bytes.Buffer{}}
	h := New(Config{OutputLog: rec.log})
	a, b := newCaller(t, h), newCaller(t, h)

	c := a
	out := c.call("wasi:cli/stdout@0.2", "get-stdout")
	errOut := c.call("wasi:cli/stderr@0.2", "get-stderr")
	c.ok(writeAll(c, out, "hello "))
	c.ok(writeAll(c, errOut, "oops"))
	c.ok(writeAll(c, c.call("wasi:cli/stdout@0.2", "get-stdout"), "world"))
	c.ok(writeAll(b, b.call("wasi:cli/stdout@0.2", "get-stdout"), "other call"))

	got := h.Output(a.inst)
	if string(got.Stdout) != "hello world" || string(got.Stderr) != "oops" || got.StdoutTruncated || got.StderrTruncated {
		t.Errorf("Output = %+v; want stdout %q, stderr %q, not truncated", got, "hello world", "oops")
	}
	if other := h.Output(b.inst); string(other.Stdout) != "other call" {
		t.Errorf("the other instance's stdout = %q", other.Stdout)
	}
	if log := rec.lines[a.inst].String(); log != "stdout:hello ;stderr:oops;stdout:world;" {
		t.Errorf("log = %q", log)
	}
}

func TestStdoutCap(t *testing.T) {
	rec := &logRecorder{lines: map[*component.Instance]*bytes.Buffer{}}
	h := New(Config{StdoutLimit: 8, OutputLog: rec.log})
	c := newCaller(t, h)
	out := c.call("wasi:cli/stdout@0.2", "get-stdout")

	if n := c.ok(c.call(streamsIface, "[method]output-stream.check-write", out)); n != uint64(8) {
		t.Errorf("check-write = %v, want the 8 bytes left", n)
	}
	// The write that crosses the limit succeeds with what fits, as the
	// specification asks of blocking-write-and-flush…
	c.ok(writeAll(c, out, "0123456789"))
	// …and the stream is closed from then on.
	for _, fn := range []string{"check-write", "flush"} {
		res := c.call(streamsIface, "[method]output-stream."+fn, out).(types.VariantValue)
		if res.Case != 1 || res.Value.(types.VariantValue).Case != 1 {
			t.Errorf("%s after the limit = %#v, want err(closed)", fn, res)
		}
	}
	if res := writeAll(c, out, "more"); res.Case != 1 {
		t.Errorf("write after the limit = %#v, want err(closed)", res)
	}

	got := h.Output(c.inst)
	if !got.StdoutTruncated {
		t.Error("StdoutTruncated is false")
	}
	text := string(got.Stdout)
	if !strings.HasPrefix(text, "01234567\n") || !strings.Contains(text, "StdoutLimit") || strings.Contains(text, "89") {
		t.Errorf("stdout = %q; want the first 8 bytes and a note naming StdoutLimit", text)
	}
	if log := rec.lines[c.inst].String(); log != "stdout:01234567;" {
		t.Errorf("log = %q; want only the kept bytes", log)
	}
}

func TestOutputOfAnUntouchedInstance(t *testing.T) {
	got := New(Config{}).Output(component.NewHostInstance())
	if len(got.Stdout) != 0 || len(got.Stderr) != 0 || got.StdoutTruncated || got.StderrTruncated {
		t.Errorf("Output = %+v, want nothing", got)
	}
}

func TestExit(t *testing.T) {
	c := newCaller(t, New(Config{}))
	tests := []struct {
		name string
		fn   string
		arg  any
		want uint8
	}{
		{"exit-ok", "exit", types.VariantValue{Case: 0}, 0},
		{"exit-err", "exit", types.VariantValue{Case: 1}, 1},
		{"exit-with-code", "exit-with-code", uint8(42), 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.try(c.ctx, "wasi:cli/exit@0.2", tt.fn, tt.arg)
			var exit *ExitError
			if !errors.As(err, &exit) || exit.Code != tt.want {
				t.Errorf("%s = %v, want *ExitError{Code: %d}", tt.fn, err, tt.want)
			}
		})
	}
}

func TestCLIDefaults(t *testing.T) {
	c := newCaller(t, New(Config{}))
	tests := []struct {
		iface, fn string
		want      any
	}{
		{"wasi:cli/environment@0.2", "get-environment", []any{}},
		{"wasi:cli/environment@0.2", "get-arguments", []any{}},
		{"wasi:cli/environment@0.2", "initial-cwd", noneValue},
		{"wasi:cli/terminal-stdin@0.2", "get-terminal-stdin", noneValue},
		{"wasi:cli/terminal-stdout@0.2", "get-terminal-stdout", noneValue},
		{"wasi:cli/terminal-stderr@0.2", "get-terminal-stderr", noneValue},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			got := c.call(tt.iface, tt.fn)
			if l, ok := got.([]any); ok {
				if len(l) != 0 {
					t.Errorf("%s = %v, want empty", tt.fn, l)
				}
				return
			}
			if got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.fn, got, tt.want)
			}
		})
	}
}

func TestEnvironmentFromConfig(t *testing.T) {
	calls := 0
	h := New(Config{Environment: func(ctx context.Context) ([][2]string, error) {
		calls++
		if component.InstanceFromContext(ctx) == nil {
			t.Error("Environment's ctx carries no instance")
		}
		return [][2]string{{"API_URL", "https://example.test"}}, nil
	}})
	c := newCaller(t, h)
	for range 2 {
		env := c.call("wasi:cli/environment@0.2", "get-environment").([]any)
		if len(env) != 1 || env[0].([]any)[0] != "API_URL" || env[0].([]any)[1] != "https://example.test" {
			t.Errorf("get-environment = %v", env)
		}
	}
	if calls != 1 {
		t.Errorf("Environment called %d times for one instance, want 1", calls)
	}

	failing := newCaller(t, New(Config{Environment: func(context.Context) ([][2]string, error) {
		return nil, errors.New("keychain locked")
	}}))
	if _, err := failing.try(failing.ctx, "wasi:cli/environment@0.2", "get-environment"); err == nil || !strings.Contains(err.Error(), "keychain locked") {
		t.Errorf("get-environment with a failing Environment = %v, want a trap naming the cause", err)
	}
}

func BenchmarkStdoutWrite(b *testing.B) {
	h := New(Config{})
	line := bytesValue([]byte("a line of tool output, about sixty bytes long, as logs are\n"))
	var c *caller
	var out any
	var write component.HostFunc
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for i := 0; b.Loop(); i++ {
		// A fresh instance before the 1 MiB limit closes stdout.
		if i%10000 == 0 {
			c = newCaller(b, h)
			out = c.call("wasi:cli/stdout@0.2", "get-stdout")
			write = c.fns[streamsIface+"#[method]output-stream.blocking-write-and-flush"]
		}
		res, err := write.Fn(c.ctx, []any{out, line})
		if err != nil || res[0].(types.VariantValue).Case != 0 {
			b.Fatalf("write failed: %v %#v", err, res)
		}
	}
}
