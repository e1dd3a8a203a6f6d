package wasi

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// captureChunk is the most bytes one check-write permits on a capturing
// stream: it bounds what one write makes the host copy.
const captureChunk = 64 << 10

// captureSink is an output sink that keeps what the guest writes, up to a
// limit, and hands each kept chunk to a log. At the limit it closes: the
// write that crosses it keeps the part that fits and succeeds (as the
// specification asks of blocking-write-and-flush), and every later
// check-write and write reports closed.
type captureSink struct {
	stream Stream // for the log; 0 when the sink is not a stdio stream
	limit  int
	log    func(ctx context.Context, stream Stream, p []byte)

	mu  sync.Mutex
	buf []byte
}

func newCaptureSink(stream Stream, limit int, log func(context.Context, Stream, []byte)) *captureSink {
	return &captureSink{stream: stream, limit: limit, log: log}
}

func (c *captureSink) capacity() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - len(c.buf)
	if room <= 0 {
		return 0, io.EOF
	}
	return min(room, captureChunk), nil
}

func (c *captureSink) write(ctx context.Context, p []byte) error {
	c.mu.Lock()
	room := c.limit - len(c.buf)
	if room <= 0 {
		c.mu.Unlock()
		return io.EOF
	}
	if len(p) > room {
		p = p[:room]
	}
	c.buf = append(c.buf, p...)
	c.mu.Unlock()
	if c.log != nil {
		c.log(ctx, c.stream, p)
	}
	return nil
}

// ready is always: a capturing sink never makes a writer wait.
func (c *captureSink) ready() <-chan struct{} { return closedChan }

// captured returns a copy of the kept bytes and whether the limit was
// reached; when it was, the copy ends with a line saying so, naming the
// Config field (setting) that raises it.
func (c *captureSink) captured(name, setting string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	full := len(c.buf) >= c.limit
	out := append([]byte(nil), c.buf...)
	if full {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = fmt.Appendf(out, "[tapedeck: %s reached its limit of %d bytes; anything past it was dropped (raise wasi.Config.%s)]\n", name, c.limit, setting)
	}
	return out, full
}
