package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// wasi:io — error, poll, streams.
//
// Readiness is a Go channel: every pollable holds a function returning a
// channel that is closed once the event is ready, so poll is a select over
// those channels and the call's ctx.Done().

// blockingWriteMax is the most bytes blocking-write-and-flush and
// blocking-write-zeroes-and-flush accept: the specification says "up to 4096".
const blockingWriteMax = 4096

// closedChan is always ready.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// ioError is a wasi:io/error resource: an error a stream operation reported.
type ioError struct {
	tracked
	err error
}

// pollable is a wasi:io/poll pollable.
type pollable struct {
	tracked
	ready func() <-chan struct{}
	stop  func() // releases what signals readiness (a timer); may be nil
}

func (p *pollable) Close() error {
	if p.stop != nil {
		p.stop()
	}
	return p.tracked.Close()
}

func (p *pollable) isReady() bool {
	select {
	case <-p.ready():
		return true
	default:
		return false
	}
}

// newPollable returns a pollable handle counted against st's limits.
func (h *Host) newPollable(st *instanceState, ready func() <-chan struct{}, stop func()) (types.Handle, error) {
	p := &pollable{ready: ready, stop: stop}
	if err := st.track(&p.tracked, "pollable", true); err != nil {
		if stop != nil {
			stop()
		}
		return types.Handle{}, err
	}
	return handleValue(h.pollableRes, p), nil
}

// inputSource is what an input-stream reads from.
type inputSource interface {
	// read returns at most n bytes without blocking: an empty slice when
	// nothing is available yet, io.EOF when the stream has ended, another
	// error when it failed.
	read(n int) ([]byte, error)
	// ready returns a channel closed once read has bytes or an error to return.
	ready() <-chan struct{}
}

// outputSink is what an output-stream writes to.
type outputSink interface {
	// capacity returns how many bytes write accepts now without blocking
	// (0: not now), or io.EOF when the sink is closed, or another error.
	capacity() (int, error)
	// write takes p, which fits the last capacity. A sink that fills up
	// keeps what fits and reports closed from then on.
	write(ctx context.Context, p []byte) error
	// ready returns a channel closed once capacity will be non-zero or an error.
	ready() <-chan struct{}
}

type inputStream struct {
	tracked
	src inputSource
}

type outputStream struct {
	tracked
	sink   outputSink
	permit uint64 // what the last check-write allowed and write has not used
}

// Close releases the stream's place in the limits and, for a source that
// has a reader behind it (a network stream), tells it the guest is gone.
func (s *inputStream) Close() error {
	if c, ok := s.src.(interface{ close() }); ok {
		c.close()
	}
	return s.tracked.Close()
}

func (h *Host) newInputStream(st *instanceState, src inputSource) (types.Handle, error) {
	s := &inputStream{src: src}
	if err := st.track(&s.tracked, "input-stream", false); err != nil {
		return types.Handle{}, err
	}
	return handleValue(h.inputStreamRes, s), nil
}

func (h *Host) newOutputStream(st *instanceState, sink outputSink) (types.Handle, error) {
	s := &outputStream{sink: sink}
	if err := st.track(&s.tracked, "output-stream", false); err != nil {
		return types.Handle{}, err
	}
	return handleValue(h.outputStreamRes, s), nil
}

// streamError turns a source's or sink's error into a stream-error value:
// io.EOF is closed; a *LimitError is returned as the trap that ends the
// call; anything else is last-operation-failed with an error resource the
// guest can print.
func (h *Host) streamError(st *instanceState, err error) (types.VariantValue, error) {
	var limit *LimitError
	if errors.As(err, &limit) {
		return types.VariantValue{}, err // a source past a limit ends the call
	}
	if errors.Is(err, io.EOF) {
		return types.VariantValue{Case: 1}, nil // closed
	}
	e := &ioError{err: err}
	if terr := st.track(&e.tracked, "error", false); terr != nil {
		return types.VariantValue{}, terr
	}
	return types.VariantValue{Case: 0, Value: handleValue(h.errorRes, e)}, nil
}

// waitReady blocks until ch is closed or ctx is done.
func waitReady(ctx context.Context, ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	default:
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wasi: call ended while the guest waited in %s: %w", what, context.Cause(ctx))
	}
}

func (h *Host) ioFuncs() map[string]map[string]hostFn {
	return map[string]map[string]hostFn{
		"wasi:io/error": {
			"[method]error.to-debug-string": func(ctx context.Context, args []any) ([]any, error) {
				e, err := hostObject[*ioError](args[0], "to-debug-string")
				if err != nil {
					return nil, err
				}
				return one(e.err.Error())
			},
		},
		"wasi:io/poll": {
			"[method]pollable.ready": func(ctx context.Context, args []any) ([]any, error) {
				p, err := hostObject[*pollable](args[0], "pollable.ready")
				if err != nil {
					return nil, err
				}
				return one(p.isReady())
			},
			"[method]pollable.block": func(ctx context.Context, args []any) ([]any, error) {
				p, err := hostObject[*pollable](args[0], "pollable.block")
				if err != nil {
					return nil, err
				}
				return nil, waitReady(ctx, p.ready(), "pollable.block")
			},
			"poll": h.poll,
		},
		"wasi:io/streams": h.streamsFuncs(),
	}
}

// poll blocks until at least one pollable of the list is ready and returns
// the indices of all that are ready then. An empty list traps, as the
// specification says; so does a list longer than Limits.MaxPollables.
func (h *Host) poll(ctx context.Context, args []any) ([]any, error) {
	list, ok := args[0].([]any)
	if !ok {
		return nil, fmt.Errorf("wasi: poll: expected a list of pollables, got %T (a bug in the runtime)", args[0])
	}
	if len(list) == 0 {
		return nil, errors.New("wasi: poll was called with an empty list of pollables (the specification makes that a trap)")
	}
	st, err := h.state(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) > st.limits.MaxPollables {
		return nil, &LimitError{What: fmt.Sprintf("poll of %d pollables", len(list)), Setting: "Limits.MaxPollables", Limit: st.limits.MaxPollables}
	}
	chans := make([]<-chan struct{}, len(list))
	for i, a := range list {
		p, err := hostObject[*pollable](a, "poll")
		if err != nil {
			return nil, err
		}
		chans[i] = p.ready()
	}
	if ready := readyIndices(chans); len(ready) > 0 {
		return one(ready)
	}
	cases := make([]reflect.SelectCase, len(chans)+1)
	for i, ch := range chans {
		cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)}
	}
	cases[len(chans)] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}
	if chosen, _, _ := reflect.Select(cases); chosen == len(chans) {
		return nil, fmt.Errorf("wasi: call ended while the guest waited in poll: %w", context.Cause(ctx))
	}
	return one(readyIndices(chans))
}

// readyIndices returns the indices of the closed channels, as list<u32>.
func readyIndices(chans []<-chan struct{}) []any {
	var out []any
	for i, ch := range chans {
		select {
		case <-ch:
			out = append(out, uint32(i))
		default:
		}
	}
	return out
}

func (h *Host) streamsFuncs() map[string]hostFn {
	// read serves read, blocking-read, skip and blocking-skip.
	read := func(name string, blocking, skip bool) hostFn {
		return func(ctx context.Context, args []any) ([]any, error) {
			s, err := hostObject[*inputStream](args[0], name)
			if err != nil {
				return nil, err
			}
			n, err := u64Arg(args[1], name)
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			// The specification lets a read return fewer bytes than asked.
			if n > uint64(st.limits.MaxReadBytes) {
				n = uint64(st.limits.MaxReadBytes)
			}
			var p []byte
			for {
				p, err = s.src.read(int(n))
				if err != nil || !blocking || len(p) > 0 || n == 0 {
					break
				}
				if err := waitReady(ctx, s.src.ready(), name); err != nil {
					return nil, err
				}
			}
			if err != nil {
				se, terr := h.streamError(st, err)
				if terr != nil {
					return nil, terr
				}
				return one(errValue(se))
			}
			if skip {
				return one(okValue(uint64(len(p))))
			}
			return one(okValue(bytesValue(p)))
		}
	}
	// out wraps an output-stream method: fn returns the stream-error cause
	// (nil for ok) and the ok value.
	out := func(name string, fn func(ctx context.Context, st *instanceState, s *outputStream, args []any) (any, error, error)) hostFn {
		return func(ctx context.Context, args []any) ([]any, error) {
			s, err := hostObject[*outputStream](args[0], name)
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			v, streamErr, trap := fn(ctx, st, s, args[1:])
			if trap != nil {
				return nil, trap
			}
			if streamErr != nil {
				se, terr := h.streamError(st, streamErr)
				if terr != nil {
					return nil, terr
				}
				return one(errValue(se))
			}
			return one(okValue(v))
		}
	}
	return map[string]hostFn{
		"[method]input-stream.read":          read("input-stream.read", false, false),
		"[method]input-stream.blocking-read": read("input-stream.blocking-read", true, false),
		"[method]input-stream.skip":          read("input-stream.skip", false, true),
		"[method]input-stream.blocking-skip": read("input-stream.blocking-skip", true, true),
		"[method]input-stream.subscribe":     subscriber(h, "input-stream.subscribe", func(s *inputStream) <-chan struct{} { return s.src.ready() }),
		"[method]output-stream.subscribe":    subscriber(h, "output-stream.subscribe", func(s *outputStream) <-chan struct{} { return s.sink.ready() }),
		"[method]output-stream.check-write": out("output-stream.check-write", func(_ context.Context, _ *instanceState, s *outputStream, _ []any) (any, error, error) {
			n, err := s.sink.capacity()
			if err != nil {
				s.permit = 0
				return nil, err, nil
			}
			s.permit = uint64(n)
			return uint64(n), nil, nil
		}),
		"[method]output-stream.write": out("output-stream.write", func(ctx context.Context, _ *instanceState, s *outputStream, args []any) (any, error, error) {
			p, err := bytesArg(args[0], "output-stream.write")
			if err != nil {
				return nil, nil, err
			}
			streamErr, trap := s.writePermitted(ctx, p, "write")
			return nil, streamErr, trap
		}),
		"[method]output-stream.write-zeroes": out("output-stream.write-zeroes", func(ctx context.Context, _ *instanceState, s *outputStream, args []any) (any, error, error) {
			n, err := u64Arg(args[0], "output-stream.write-zeroes")
			if err != nil {
				return nil, nil, err
			}
			if n > s.permit {
				return nil, nil, s.overPermit("write-zeroes", n)
			}
			streamErr, trap := s.writePermitted(ctx, make([]byte, n), "write-zeroes")
			return nil, streamErr, trap
		}),
		"[method]output-stream.blocking-write-and-flush": out("output-stream.blocking-write-and-flush", func(ctx context.Context, _ *instanceState, s *outputStream, args []any) (any, error, error) {
			p, err := bytesArg(args[0], "output-stream.blocking-write-and-flush")
			if err != nil {
				return nil, nil, err
			}
			return s.blockingWrite(ctx, p, "blocking-write-and-flush")
		}),
		"[method]output-stream.blocking-write-zeroes-and-flush": out("output-stream.blocking-write-zeroes-and-flush", func(ctx context.Context, _ *instanceState, s *outputStream, args []any) (any, error, error) {
			n, err := u64Arg(args[0], "output-stream.blocking-write-zeroes-and-flush")
			if err != nil {
				return nil, nil, err
			}
			if n > blockingWriteMax {
				return nil, nil, fmt.Errorf("wasi: output-stream.blocking-write-zeroes-and-flush of %d bytes: the specification allows at most %d (a guest bug)", n, blockingWriteMax)
			}
			return s.blockingWrite(ctx, make([]byte, n), "blocking-write-zeroes-and-flush")
		}),
		// The sinks here write through at once, so a flush has nothing to
		// wait for beyond the sink being open.
		"[method]output-stream.flush": out("output-stream.flush", func(_ context.Context, _ *instanceState, s *outputStream, _ []any) (any, error, error) {
			_, err := s.sink.capacity()
			return nil, err, nil
		}),
		"[method]output-stream.blocking-flush": out("output-stream.blocking-flush", func(ctx context.Context, _ *instanceState, s *outputStream, _ []any) (any, error, error) {
			if err := waitReady(ctx, s.sink.ready(), "output-stream.blocking-flush"); err != nil {
				return nil, nil, err
			}
			_, err := s.sink.capacity()
			return nil, err, nil
		}),
		"[method]output-stream.splice": out("output-stream.splice", func(ctx context.Context, st *instanceState, s *outputStream, args []any) (any, error, error) {
			return s.splice(ctx, st, args, false)
		}),
		"[method]output-stream.blocking-splice": out("output-stream.blocking-splice", func(ctx context.Context, st *instanceState, s *outputStream, args []any) (any, error, error) {
			return s.splice(ctx, st, args, true)
		}),
	}
}

func (s *outputStream) overPermit(op string, n uint64) error {
	return fmt.Errorf("wasi: output-stream.%s of %d bytes, but check-write permitted %d (the specification makes that a trap; a guest bug)", op, n, s.permit)
}

// writePermitted is write: p must fit the permit check-write gave.
// It returns the stream error (nil for ok) and a trap.
func (s *outputStream) writePermitted(ctx context.Context, p []byte, op string) (streamErr, trap error) {
	if uint64(len(p)) > s.permit {
		return nil, s.overPermit(op, uint64(len(p)))
	}
	s.permit -= uint64(len(p))
	if len(p) == 0 {
		return nil, nil
	}
	return s.sink.write(ctx, p), nil
}

// blockingWrite is blocking-write-and-flush: up to 4096 bytes, written as
// the sink makes room.
func (s *outputStream) blockingWrite(ctx context.Context, p []byte, op string) (v any, streamErr, trap error) {
	if len(p) > blockingWriteMax {
		return nil, nil, fmt.Errorf("wasi: output-stream.%s of %d bytes: the specification allows at most %d (a guest bug)", op, len(p), blockingWriteMax)
	}
	wrote := false
	for {
		n, err := s.sink.capacity()
		if errors.Is(err, io.EOF) && wrote {
			// The specification: when writing the contents closes the
			// stream, this call succeeds and later ones report closed.
			return nil, nil, nil
		}
		if err != nil {
			return nil, err, nil
		}
		if n == 0 {
			if err := waitReady(ctx, s.sink.ready(), "output-stream."+op); err != nil {
				return nil, nil, err
			}
			continue
		}
		chunk := p
		if len(chunk) > n {
			chunk = chunk[:n]
		}
		if err := s.sink.write(ctx, chunk); err != nil {
			return nil, err, nil
		}
		wrote = true
		p = p[len(chunk):]
		if len(p) == 0 {
			return nil, nil, nil
		}
	}
}

// splice moves bytes from an input stream: at most len, the sink's
// capacity and Limits.MaxReadBytes.
func (s *outputStream) splice(ctx context.Context, st *instanceState, args []any, blocking bool) (v any, streamErr, trap error) {
	op := "output-stream.splice"
	if blocking {
		op = "output-stream.blocking-splice"
	}
	src, err := hostObject[*inputStream](args[0], op)
	if err != nil {
		return nil, nil, err
	}
	n, err := u64Arg(args[1], op)
	if err != nil {
		return nil, nil, err
	}
	if blocking {
		if err := waitReady(ctx, s.sink.ready(), op); err != nil {
			return nil, nil, err
		}
	}
	room, err := s.sink.capacity()
	if err != nil {
		return nil, err, nil
	}
	n = min(n, uint64(room), uint64(st.limits.MaxReadBytes))
	if n == 0 {
		return uint64(0), nil, nil
	}
	var p []byte
	for {
		p, err = src.src.read(int(n))
		if err != nil {
			return nil, err, nil
		}
		if len(p) > 0 || !blocking {
			break
		}
		if err := waitReady(ctx, src.src.ready(), op); err != nil {
			return nil, nil, err
		}
	}
	if len(p) > 0 {
		if err := s.sink.write(ctx, p); err != nil {
			return nil, err, nil
		}
	}
	return uint64(len(p)), nil, nil
}

// emptySource is an input stream at its end: stdin.
type emptySource struct{}

func (emptySource) read(int) ([]byte, error) { return nil, io.EOF }
func (emptySource) ready() <-chan struct{}   { return closedChan }
