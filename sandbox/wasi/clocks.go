package wasi

import (
	"context"
	"math"
	"time"
)

// wasi:clocks — the real wall clock and a monotonic clock that counts
// nanoseconds from the Host's creation (Go's monotonic reading, so it never
// goes back when the wall clock is set).

// clockResolution is what both clocks report: Go reads time in nanoseconds.
const clockResolution = time.Nanosecond

func (h *Host) clocksFuncs() map[string]map[string]hostFn {
	datetime := func(seconds int64, nanos int) []any {
		return []any{uint64(seconds), uint32(nanos)}
	}
	return map[string]map[string]hostFn{
		"wasi:clocks/wall-clock": {
			"now": func(context.Context, []any) ([]any, error) {
				t := time.Now()
				return one(datetime(t.Unix(), t.Nanosecond()))
			},
			"resolution": func(context.Context, []any) ([]any, error) {
				return one(datetime(0, int(clockResolution)))
			},
		},
		"wasi:clocks/monotonic-clock": {
			"now": func(context.Context, []any) ([]any, error) {
				return one(h.monotonicNow())
			},
			"resolution": func(context.Context, []any) ([]any, error) {
				return one(uint64(clockResolution))
			},
			"subscribe-instant": func(ctx context.Context, args []any) ([]any, error) {
				when, err := u64Arg(args[0], "subscribe-instant")
				if err != nil {
					return nil, err
				}
				now := h.monotonicNow()
				if when <= now {
					return h.timer(ctx, 0)
				}
				return h.timer(ctx, when-now)
			},
			"subscribe-duration": func(ctx context.Context, args []any) ([]any, error) {
				d, err := u64Arg(args[0], "subscribe-duration")
				if err != nil {
					return nil, err
				}
				return h.timer(ctx, d)
			},
		},
	}
}

// monotonicNow is the monotonic clock's instant: nanoseconds since h was made.
func (h *Host) monotonicNow() uint64 { return uint64(time.Since(h.start)) }

// timer returns a pollable that becomes ready after nanos nanoseconds.
// A wait too long for a time.Duration is a pollable that is never ready.
func (h *Host) timer(ctx context.Context, nanos uint64) ([]any, error) {
	st, err := h.state(ctx)
	if err != nil {
		return nil, err
	}
	if nanos == 0 {
		p, err := h.newPollable(st, func() <-chan struct{} { return closedChan }, nil)
		if err != nil {
			return nil, err
		}
		return one(p)
	}
	ch := make(chan struct{})
	var stop func()
	if nanos <= math.MaxInt64 {
		t := time.AfterFunc(time.Duration(nanos), func() { close(ch) })
		stop = func() { t.Stop() }
	}
	p, err := h.newPollable(st, func() <-chan struct{} { return ch }, stop)
	if err != nil {
		return nil, err
	}
	return one(p)
}
