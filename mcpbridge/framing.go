package mcpbridge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// guardStream puts a line check in front of a newline-delimited JSON-RPC
// stream. The go-sdk ends a session at the first line that is not JSON;
// the JSON-RPC spec answers it with a parse error and carries on, and a
// server shared by every editor should not drop a session for one bad
// line. Lines that are not a JSON object or array (or are longer than the
// SDK accepts) are answered with a -32700 error on w and not passed on;
// the returned writer must carry every other write to w, so the error
// never lands inside another message. When track is not nil it follows
// which requests are still waiting for their answer.
func guardStream(r io.Reader, w io.Writer, track *sessionAnswers) (io.ReadCloser, io.WriteCloser) {
	lw := &lockedWriter{w: w, track: track}
	return &lineGuard{src: bufio.NewReaderSize(r, 64<<10), closer: r, out: lw, track: track}, lw
}

// lockedWriter serialises whole-message writes.
type lockedWriter struct {
	mu    sync.Mutex
	w     io.Writer
	track *sessionAnswers
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if err == nil && l.track != nil {
		l.track.wrote(p)
	}
	return n, err
}

// Close closes the underlying writer when it can be closed.
func (l *lockedWriter) Close() error {
	if c, ok := l.w.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// lineGuard passes on good lines and answers bad ones.
type lineGuard struct {
	src     *bufio.Reader
	closer  io.Reader
	out     io.Writer
	track   *sessionAnswers
	pending []byte
	err     error
}

func (g *lineGuard) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.err != nil {
			return 0, g.err
		}
		line, tooLong, err := readLine(g.src, mcp.DefaultMaxLineLength)
		g.err = err
		switch {
		case tooLong:
			g.reject(fmt.Sprintf("message longer than %d bytes", mcp.DefaultMaxLineLength))
		case len(bytes.TrimSpace(line)) == 0:
		case !looksLikeJSONRPC(line):
			g.reject("not a JSON object")
		default:
			g.pending = line
			if g.track != nil {
				g.track.read(line)
			}
		}
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// Close closes the underlying reader when it can be closed.
func (g *lineGuard) Close() error {
	if c, ok := g.closer.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// reject answers a line that cannot be read with a parse error; its id is
// unknown, so it is null, as JSON-RPC says.
func (g *lineGuard) reject(why string) {
	msg, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": nil,
		"error": map[string]any{"code": -32700, "message": "Parse error: " + why},
	})
	g.out.Write(append(msg, '\n'))
}

// looksLikeJSONRPC reports whether line is valid JSON holding an object or
// a batch; what is inside is the SDK's to judge.
func looksLikeJSONRPC(line []byte) bool {
	t := bytes.TrimSpace(line)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}

// readLine reads one line (with its newline) of at most max bytes; a
// longer line is consumed and reported as tooLong.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}
