package wasi

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

const (
	pollIface    = "wasi:io/poll@0.2"
	streamsIface = "wasi:io/streams@0.2"
	monoIface    = "wasi:clocks/monotonic-clock@0.2"
)

// chanPollable returns a pollable that is ready once ch is closed.
func chanPollable(t *testing.T, c *caller, ch chan struct{}) types.Handle {
	t.Helper()
	st, err := c.h.state(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.h.newPollable(st, func() <-chan struct{} { return ch }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPollBlocksUntilReady(t *testing.T) {
	c := newCaller(t, New(Config{}))
	never := chanPollable(t, c, make(chan struct{}))
	ch := make(chan struct{})
	later := chanPollable(t, c, ch)

	var released atomic.Bool
	go func() {
		time.Sleep(10 * time.Millisecond) // give poll the chance to block; correctness does not depend on it
		released.Store(true)
		close(ch)
	}()
	got := c.call(pollIface, "poll", []any{never, later}).([]any)
	if !released.Load() {
		t.Fatal("poll returned before any pollable was ready")
	}
	if len(got) != 1 || got[0] != uint32(1) {
		t.Errorf("poll = %v, want [1]", got)
	}
}

func TestPollReturnsEveryReadyIndex(t *testing.T) {
	c := newCaller(t, New(Config{}))
	ready := make(chan struct{})
	close(ready)
	a := chanPollable(t, c, ready)
	b := chanPollable(t, c, make(chan struct{}))
	got := c.call(pollIface, "poll", []any{a, b, a}).([]any)
	if len(got) != 2 || got[0] != uint32(0) || got[1] != uint32(2) {
		t.Errorf("poll = %v, want [0 2]", got)
	}
}

func TestPollWakesOnTimer(t *testing.T) {
	c := newCaller(t, New(Config{}))
	long := c.call(monoIface, "subscribe-duration", uint64(time.Hour))
	short := c.call(monoIface, "subscribe-duration", uint64(5*time.Millisecond))
	got := c.call(pollIface, "poll", []any{long, short}).([]any)
	if len(got) != 1 || got[0] != uint32(1) {
		t.Errorf("poll = %v, want [1] (the short timer)", got)
	}
	if c.call(pollIface, "[method]pollable.ready", long) != false {
		t.Error("the one-hour timer is ready")
	}
	drop(long)
	drop(short)
}

func TestSubscribeInstantInThePastIsReady(t *testing.T) {
	c := newCaller(t, New(Config{}))
	now := c.call(monoIface, "now").(uint64)
	p := c.call(monoIface, "subscribe-instant", now)
	if c.call(pollIface, "[method]pollable.ready", p) != true {
		t.Error("a pollable for an instant already past is not ready")
	}
	future := c.call(monoIface, "subscribe-instant", now+uint64(2*time.Millisecond))
	c.call(pollIface, "[method]pollable.block", future)
	if after := c.call(monoIface, "now").(uint64); after < now+uint64(2*time.Millisecond) {
		t.Errorf("block returned at %d, before the instant %d", after, now+uint64(2*time.Millisecond))
	}
}

func TestPollCancelledByContext(t *testing.T) {
	c := newCaller(t, New(Config{}))
	p := chanPollable(t, c, make(chan struct{}))
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.try(ctx, pollIface, "poll", []any{p})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("poll after cancel = %v, want context.Canceled", err)
	}
	if _, err := c.try(ctx, pollIface, "[method]pollable.block", p); !errors.Is(err, context.Canceled) {
		t.Errorf("block after cancel = %v, want context.Canceled", err)
	}
}

func TestPollRefusals(t *testing.T) {
	h := New(Config{Limits: Limits{MaxPollables: 2}})
	c := newCaller(t, h)
	ready := make(chan struct{})
	close(ready)
	p := chanPollable(t, c, ready)
	tests := []struct {
		name    string
		list    []any
		wantMsg string
	}{
		{"empty-list", []any{}, "empty list"},
		{"over-limit", []any{p, p, p}, "Limits.MaxPollables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.try(c.ctx, pollIface, "poll", tt.list)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("poll = %v, want a trap mentioning %q", err, tt.wantMsg)
			}
		})
	}
	// Two pollables are the cap: a third cannot be made until one is dropped.
	q := chanPollable(t, c, ready)
	var limit *LimitError
	if _, err := c.try(c.ctx, monoIface, "subscribe-duration", uint64(0)); !errors.As(err, &limit) {
		t.Fatalf("third pollable: %v, want a *LimitError", err)
	}
	drop(q)
	drop(c.call(monoIface, "subscribe-duration", uint64(0)))
}

func TestHandleLimit(t *testing.T) {
	h := New(Config{Limits: Limits{MaxHandles: 3}})
	c := newCaller(t, h)
	var open []any
	for range 3 {
		open = append(open, c.call("wasi:cli/stdout@0.2", "get-stdout"))
	}
	_, err := c.try(c.ctx, "wasi:cli/stdout@0.2", "get-stdout")
	var limit *LimitError
	if !errors.As(err, &limit) || limit.Setting != "Limits.MaxHandles" || limit.Limit != 3 {
		t.Fatalf("fourth handle: %v, want a *LimitError on Limits.MaxHandles", err)
	}
	drop(open[0])
	drop(open[0]) // a second Close must not free another place
	open[0] = c.call("wasi:cli/stdout@0.2", "get-stdout")
	if _, err := c.try(c.ctx, "wasi:cli/stdout@0.2", "get-stdout"); err == nil {
		t.Error("a double drop freed two places")
	}
	// Limits are per instance: another instance starts with none open.
	other := newCaller(t, h)
	drop(other.call("wasi:cli/stdout@0.2", "get-stdout"))
}

// bytesSource is an input stream over fixed bytes, made ready by a channel.
type bytesSource struct {
	mu    sync.Mutex
	data  []byte
	avail chan struct{} // closed when data may be read
}

func (b *bytesSource) read(n int) ([]byte, error) {
	select {
	case <-b.avail:
	default:
		return nil, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.data) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(b.data))
	p := b.data[:n]
	b.data = b.data[n:]
	return p, nil
}

func (b *bytesSource) ready() <-chan struct{} { return b.avail }

func newInput(t *testing.T, c *caller, src inputSource) types.Handle {
	t.Helper()
	st, err := c.h.state(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.h.newInputStream(st, src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInputStreamReads(t *testing.T) {
	h := New(Config{Limits: Limits{MaxReadBytes: 4}})
	c := newCaller(t, h)
	avail := make(chan struct{})
	in := newInput(t, c, &bytesSource{data: []byte("hello world"), avail: avail})

	if got := c.ok(c.call(streamsIface, "[method]input-stream.read", in, uint64(100))).([]any); len(got) != 0 {
		t.Errorf("read before data = %v, want empty", got)
	}
	sub := c.call(streamsIface, "[method]input-stream.subscribe", in)
	if c.call(pollIface, "[method]pollable.ready", sub) != false {
		t.Error("subscribe is ready before data")
	}
	go close(avail)
	// blocking-read waits for data, and a read is capped at MaxReadBytes.
	got, err := bytesArg(c.ok(c.call(streamsIface, "[method]input-stream.blocking-read", in, uint64(100))), "test")
	if err != nil || string(got) != "hell" {
		t.Errorf("blocking-read = %q, %v; want %q (capped at 4 bytes)", got, err, "hell")
	}
	if n := c.ok(c.call(streamsIface, "[method]input-stream.skip", in, uint64(2))); n != uint64(2) {
		t.Errorf("skip = %v, want 2", n)
	}
	if n := c.ok(c.call(streamsIface, "[method]input-stream.blocking-skip", in, uint64(100))); n != uint64(4) {
		t.Errorf("blocking-skip = %v, want 4", n)
	}
	got, _ = bytesArg(c.ok(c.call(streamsIface, "[method]input-stream.read", in, uint64(100))), "test")
	if string(got) != "d" {
		t.Errorf("read = %q, want %q", got, "d")
	}
	res := c.call(streamsIface, "[method]input-stream.read", in, uint64(1)).(types.VariantValue)
	if res.Case != 1 || res.Value.(types.VariantValue).Case != 1 {
		t.Errorf("read at end = %#v, want err(closed)", res)
	}
}

func TestStdinIsEmpty(t *testing.T) {
	c := newCaller(t, New(Config{}))
	in := c.call("wasi:cli/stdin@0.2", "get-stdin")
	for _, fn := range []string{"read", "blocking-read", "skip", "blocking-skip"} {
		t.Run(fn, func(t *testing.T) {
			res := c.call(streamsIface, "[method]input-stream."+fn, in, uint64(10)).(types.VariantValue)
			if res.Case != 1 || res.Value.(types.VariantValue).Case != 1 {
				t.Errorf("%s = %#v, want err(closed)", fn, res)
			}
		})
	}
	if c.call(pollIface, "[method]pollable.ready", c.call(streamsIface, "[method]input-stream.subscribe", in)) != true {
		t.Error("stdin's pollable is not ready at end of stream")
	}
}

func TestStreamErrorCarriesError(t *testing.T) {
	c := newCaller(t, New(Config{}))
	failing := &failingSource{err: errors.New("disk on fire")}
	in := newInput(t, c, failing)
	res := c.call(streamsIface, "[method]input-stream.read", in, uint64(1)).(types.VariantValue)
	se := res.Value.(types.VariantValue)
	if res.Case != 1 || se.Case != 0 {
		t.Fatalf("read = %#v, want err(last-operation-failed)", res)
	}
	if msg := c.call("wasi:io/error@0.2", "[method]error.to-debug-string", se.Value); msg != "disk on fire" {
		t.Errorf("to-debug-string = %q", msg)
	}
	code := c.call("wasi:filesystem/types@0.2", "filesystem-error-code", se.Value).(types.VariantValue)
	if code.Case != 0 {
		t.Errorf("filesystem-error-code of a non-file error = %#v, want none", code)
	}
}

type failingSource struct{ err error }

func (f *failingSource) read(int) ([]byte, error) { return nil, f.err }
func (f *failingSource) ready() <-chan struct{}   { return closedChan }

func TestOutputStreamPermits(t *testing.T) {
	c := newCaller(t, New(Config{}))
	out := c.call("wasi:cli/stdout@0.2", "get-stdout")
	tests := []struct {
		name     string
		fn       string
		arg      any
		wantTrap string
	}{
		{"write-without-permit", "[method]output-stream.write", []any{uint8('x')}, "check-write permitted 0"},
		{"write-zeroes-without-permit", "[method]output-stream.write-zeroes", uint64(1), "check-write permitted 0"},
		{"blocking-write-over-4096", "[method]output-stream.blocking-write-and-flush", make([]any, 4097), "at most 4096"},
		{"blocking-zeroes-over-4096", "[method]output-stream.blocking-write-zeroes-and-flush", uint64(4097), "at most 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if l, ok := tt.arg.([]any); ok {
				for i := range l {
					if l[i] == nil {
						l[i] = uint8(0)
					}
				}
			}
			_, err := c.try(c.ctx, streamsIface, tt.fn, out, tt.arg)
			if err == nil || !strings.Contains(err.Error(), tt.wantTrap) {
				t.Errorf("%s = %v, want a trap mentioning %q", tt.fn, err, tt.wantTrap)
			}
		})
	}
	permit := c.ok(c.call(streamsIface, "[method]output-stream.check-write", out)).(uint64)
	if permit == 0 {
		t.Fatal("check-write permitted 0 bytes on an empty stdout")
	}
	c.ok(c.call(streamsIface, "[method]output-stream.write", out, bytesValue([]byte("ab"))))
	c.ok(c.call(streamsIface, "[method]output-stream.write-zeroes", out, uint64(1)))
	c.ok(c.call(streamsIface, "[method]output-stream.flush", out))
	c.ok(c.call(streamsIface, "[method]output-stream.blocking-flush", out))
	if got := string(c.h.Output(c.inst).Stdout); got != "ab\x00" {
		t.Errorf("stdout = %q, want %q", got, "ab\x00")
	}
}

func TestSplice(t *testing.T) {
	c := newCaller(t, New(Config{}))
	avail := make(chan struct{})
	in := newInput(t, c, &bytesSource{data: []byte("spliced"), avail: avail})
	out := c.call("wasi:cli/stderr@0.2", "get-stderr")
	if n := c.ok(c.call(streamsIface, "[method]output-stream.splice", out, in, uint64(100))); n != uint64(0) {
		t.Errorf("splice before data = %v, want 0", n)
	}
	go close(avail)
	if n := c.ok(c.call(streamsIface, "[method]output-stream.blocking-splice", out, in, uint64(3))); n != uint64(3) {
		t.Errorf("blocking-splice = %v, want 3", n)
	}
	if n := c.ok(c.call(streamsIface, "[method]output-stream.splice", out, in, uint64(100))); n != uint64(4) {
		t.Errorf("splice = %v, want 4", n)
	}
	res := c.call(streamsIface, "[method]output-stream.splice", out, in, uint64(100)).(types.VariantValue)
	if res.Case != 1 {
		t.Errorf("splice at end = %#v, want err(closed)", res)
	}
	if got := string(c.h.Output(c.inst).Stderr); got != "spliced" {
		t.Errorf("stderr = %q, want %q", got, "spliced")
	}
}

func TestCallOutsideAnInstance(t *testing.T) {
	c := newCaller(t, New(Config{}))
	_, err := c.try(context.Background(), "wasi:cli/stdout@0.2", "get-stdout")
	if err == nil || !strings.Contains(err.Error(), "outside a component instance") {
		t.Errorf("get-stdout without an instance = %v, want an error saying so", err)
	}
}
