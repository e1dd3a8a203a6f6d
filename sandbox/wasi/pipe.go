package wasi

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
)

// pipeBuffer is how many bytes a network input stream reads ahead of the
// guest; the reading goroutine waits once it has that many unread.
const pipeBuffer = 64 << 10

// errReaderGone tells a pipe's writer that the guest dropped the stream.
var errReaderGone = errors.New("the reader dropped the stream")

// streamPipe is the inputSource of a network input stream (an HTTP
// response body, a TCP socket's input): a goroutine writes what it reads
// from the network, the guest reads it without blocking, and readiness is a
// channel that closes on the next change.
type streamPipe struct {
	mu      sync.Mutex
	buf     []byte
	err     error // returned once buf is drained: io.EOF or why the stream failed
	gone    bool  // the reader dropped the stream
	changed chan struct{}
}

func newStreamPipe() *streamPipe { return &streamPipe{changed: make(chan struct{})} }

// signal wakes whoever waits on the pipe; p.mu must be held.
func (p *streamPipe) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *streamPipe) read(n int) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		k := min(n, len(p.buf))
		out := append([]byte(nil), p.buf[:k]...)
		p.buf = append(p.buf[:0], p.buf[k:]...)
		p.signal()
		return out, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	return nil, nil
}

func (p *streamPipe) ready() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 || p.err != nil {
		return closedChan
	}
	return p.changed
}

// write appends data, waiting while the buffer is full. It fails when the
// reader is gone or ctx ends.
func (p *streamPipe) write(ctx context.Context, data []byte) error {
	for len(data) > 0 {
		p.mu.Lock()
		if p.gone {
			p.mu.Unlock()
			return errReaderGone
		}
		if room := pipeBuffer - len(p.buf); room > 0 {
			k := min(room, len(data))
			p.buf = append(p.buf, data[:k]...)
			data = data[k:]
			p.signal()
			p.mu.Unlock()
			continue
		}
		wait := p.changed
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// finish ends the stream: after the buffered bytes, read returns err
// (io.EOF for a clean end). Only the first call counts.
func (p *streamPipe) finish(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		p.signal()
	}
}

// close is the reader going away: the writer stops at its next write.
func (p *streamPipe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gone = true
	p.buf = nil
	p.signal()
}

// connSink is the outputSink of a TCP socket's output stream: each write
// is handed to a goroutine, and the sink has no room until it is done, so
// a guest never blocks the host and never has more than one chunk queued.
type connSink struct {
	conn net.Conn

	mu      sync.Mutex
	busy    bool
	err     error
	changed chan struct{}
}

func newConnSink(conn net.Conn) *connSink {
	return &connSink{conn: conn, changed: make(chan struct{})}
}

func (s *connSink) capacity() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.err != nil:
		return 0, s.err
	case s.busy:
		return 0, nil
	}
	return pipeBuffer, nil
}

func (s *connSink) write(_ context.Context, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.busy {
		return errors.New("wasi: write on a TCP stream with a write still in progress (a bug in the host)")
	}
	s.busy = true
	chunk := append([]byte(nil), p...)
	go func() {
		_, err := s.conn.Write(chunk)
		s.mu.Lock()
		s.busy = false
		if err != nil && s.err == nil {
			s.err = err
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}()
	return nil
}

func (s *connSink) ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.busy || s.err != nil {
		return closedChan
	}
	return s.changed
}

// idle waits until no write is in progress, or ctx ends.
func (s *connSink) idle(ctx context.Context) error {
	return waitReady(ctx, s.ready(), "tcp-socket.shutdown")
}

// closeWith marks the sink closed: later writes report err.
func (s *connSink) closeWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// pumpConn copies conn into p until conn ends, fails or the reader goes.
func pumpConn(ctx context.Context, conn net.Conn, p *streamPipe) {
	buf := make([]byte, 32<<10)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if werr := p.write(ctx, buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = io.EOF
			}
			p.finish(err)
			return
		}
	}
}
