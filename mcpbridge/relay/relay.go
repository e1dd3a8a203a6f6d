// Package relay is the byte relay behind `tapedeck mcp`, the stdio command
// editors launch: it connects to the local socket of the process that owns
// the data dir and copies newline-delimited JSON-RPC both ways, so every
// editor shares the one owner's state.
//
// When no owner runs, Run starts one (Options.StartOwner) and waits for its
// socket, retrying as the owner starts — unless the data dir's lock file
// names a process that still runs, as the owner or as the one taking
// ownership over (ownerlock.Owner.Next): then it waits for that process.
// When the owner goes away mid-session — a tray app taking over from a
// headless owner, or a crash — Run connects to the next owner and replays
// the editor's initialize handshake on its behalf, so the editor's session
// continues. Requests the lost owner was still handling are answered with
// a JSON-RPC error at once (see ownerLostMessage), so the editor never
// waits for an answer that cannot come.
//
//	err := relay.Run(ctx, os.Stdin, os.Stdout, relay.Options{
//		Socket:     paths.SocketPath(dirs),
//		StartOwner: startHeadlessOwner,
//		DataDir:    dirs.Data,
//	})
package relay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"tapedeck.dev/tapedeck/internal/localsock"
)

// Options configure Run. Socket is required.
type Options struct {
	// Socket is the owner's unix socket path, or on Windows its named
	// pipe (paths.SocketPath gives either).
	Socket string
	// StartOwner starts an owner in the background when none answers; it
	// must not wait for it. Two relays may call it at once: the owner lock
	// makes one owner win and the other exit. Nil means never start one.
	StartOwner func(ctx context.Context) error
	// DataDir is the data dir the owner owns. When set, a relay that finds
	// no owner answering reads its lock file first, and does not call
	// StartOwner while a process it names runs — the one taking ownership
	// over (ownerlock.Owner.Next), or the owner — for Wait at most. Empty
	// means StartOwner is called as soon as no owner answers.
	DataDir string
	// Wait bounds how long Run waits for an owner's socket to answer, at
	// start and after losing one, and how long it waits for a process the
	// lock file names before starting an owner (which then gets as long
	// again); zero means 15 seconds.
	Wait time.Duration
	// Dial connects to the socket; nil means localsock.Dial (a unix
	// socket, or a named pipe on Windows). Tests replace it.
	Dial func(ctx context.Context, socket string) (net.Conn, error)
}

// Run relays in (the editor's requests) to the owner and the owner's
// replies to out, until in ends (the editor closed the session) and the
// owner has answered, or ctx is done. It returns nil when the editor ended
// the session.
//
// # Errors
//
// An error when no owner answers within Options.Wait (after starting one
// when Options.StartOwner allows), or a stream fails.
func Run(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.Wait <= 0 {
		opts.Wait = 15 * time.Second
	}
	if opts.Dial == nil {
		opts.Dial = localsock.Dial
	}
	r := &relay{opts: opts, out: out}
	r.cond = sync.NewCond(&r.mu)
	conn, err := r.connect(ctx)
	if err != nil {
		return err
	}
	r.conn = conn
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.closed = true
		if r.conn != nil {
			r.conn.Close()
		}
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop()

	inDone := make(chan error, 1)
	go func() { inDone <- r.pumpIn(in) }()
	outErr := r.pumpOut(ctx)
	r.mu.Lock()
	if r.conn != nil {
		r.conn.Close()
	}
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	if ctx.Err() != nil {
		return nil
	}
	if outErr != nil {
		return outErr
	}
	select {
	case err := <-inDone:
		return err
	default:
		// in is still open but will not be read further: the owner
		// closed the session for good.
		return nil
	}
}

// relay is one editor session's relay state.
type relay struct {
	opts Options
	out  io.Writer

	mu   sync.Mutex
	cond *sync.Cond
	// conn is the current owner connection; nil while reconnecting.
	conn net.Conn
	// inClosed: the editor ended its side; closed: the relay is done.
	inClosed, closed bool
	// initialize and initialized are the editor's handshake, replayed to a
	// new owner; initID is the initialize request's id.
	initialize, initialized []byte
	initID                  json.RawMessage
	listens                 [][]byte
	// pending holds the editor's requests written to the current owner
	// connection and not yet answered, by compact id: they are answered
	// with an error when that connection drops.
	pending map[string]json.RawMessage
}

// connect dials the owner and retries until Options.Wait passes. When
// none answers it starts one, unless the lock file names a process that
// still runs and will serve (see comingOwner); an owner started late gets
// a full Wait.
func (r *relay) connect(ctx context.Context) (net.Conn, error) {
	deadline := time.Now().Add(r.opts.Wait)
	started := false
	var coming comingOwner
	looked := false // at the lock file, once per connect
	delay := 10 * time.Millisecond
	for {
		conn, err := r.opts.Dial(ctx, r.opts.Socket)
		if err == nil {
			return conn, nil
		}
		if !started && r.opts.StartOwner != nil {
			if !looked {
				coming, looked = r.findComingOwner(), true
			}
			if !coming.awaited() {
				started = true
				if err := r.opts.StartOwner(ctx); err != nil {
					return nil, fmt.Errorf("no Tapedeck owner answers on %s, and starting one failed: %w", r.opts.Socket, err)
				}
				deadline = later(deadline, time.Now().Add(r.opts.Wait))
			}
		}
		if r.editorGone() {
			return nil, errEditorGone
		}
		if time.Now().After(deadline) {
			hint := "start one with `tapedeck serve` or the Tapedeck app"
			if started {
				hint = "the one started in the background did not come up: see owner.log in the data dir"
			}
			return nil, fmt.Errorf("no Tapedeck owner answers on %s (%v); %s", r.opts.Socket, err, hint)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// pumpIn copies the editor's messages to the current owner connection,
// noting the ones a new owner must see again, until in ends.
func (r *relay) pumpIn(in io.Reader) error {
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			r.note(line)
			if werr := r.write(line, trackedRequestID(line)); werr != nil {
				return werr
			}
		}
		if err != nil {
			r.mu.Lock()
			r.inClosed = true
			if r.conn != nil {
				closeWrite(r.conn) // the owner sees the end of the session
			}
			r.mu.Unlock()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading from the editor: %w", err)
		}
	}
}

// note keeps what a new owner must be told to continue the session: the
// initialize request and initialized notification of the handshake
// protocol, and open subscriptions/listen requests of the stateless one
// (whose every other request carries its own context). Only lines that
// mention one of those methods are parsed.
func (r *relay) note(line []byte) {
	if !bytes.Contains(line, []byte(`"initialize`)) && !bytes.Contains(line, []byte(`"notifications/initialized"`)) &&
		!bytes.Contains(line, []byte(`"subscriptions/listen"`)) {
		return
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(line, &msg) != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch msg.Method {
	case "initialize":
		r.initialize, r.initID = bytes.Clone(line), msg.ID
	case "notifications/initialized":
		r.initialized = bytes.Clone(line)
	case "subscriptions/listen":
		r.listens = append(r.listens, bytes.Clone(line))
	}
}

// write sends one line to the owner, waiting while the relay reconnects.
// A non-nil id marks the line as a request whose answer the editor awaits
// from the connection it was written to.
func (r *relay) write(line []byte, id json.RawMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for r.conn == nil && !r.closed {
			r.cond.Wait()
		}
		if r.closed {
			return errors.New("the owner connection is closed")
		}
		conn := r.conn
		if _, err := conn.Write(line); err == nil {
			if id != nil {
				if r.pending == nil {
					r.pending = make(map[string]json.RawMessage)
				}
				r.pending[string(id)] = id
			}
			return nil
		}
		// The owner went away mid-write: pumpOut notices and reconnects;
		// send the line again on the new connection.
		if r.conn == conn {
			r.cond.Wait()
		}
	}
}

// pumpOut copies the owner's messages to the editor; when the owner goes
// away while the editor is still there, it connects to the next owner and
// replays the session's opening there.
func (r *relay) pumpOut(ctx context.Context) error {
	silent := 0 // reconnects in a row after which the owner said nothing
	for {
		r.mu.Lock()
		conn := r.conn
		r.mu.Unlock()
		n, err := r.copyAnswers(conn)
		r.mu.Lock()
		inClosed, closed := r.inClosed, r.closed
		if !inClosed && !closed {
			r.conn = nil // writers wait for the new connection
		}
		// Taken in the same step that retires conn: every request written
		// to conn is in it, and none written later is.
		lost := r.pending
		r.pending = nil
		r.mu.Unlock()
		conn.Close()
		if inClosed || closed || ctx.Err() != nil {
			if !closed && ctx.Err() == nil {
				// The editor stopped sending but may still read.
				r.answerLost(lost) //nolint:errcheck // best effort at the end
			}
			return nil
		}
		if err != nil && !isClosedErr(err) {
			return fmt.Errorf("relaying to the editor: %w", err)
		}
		if err := r.answerLost(lost); err != nil {
			return err
		}
		if n > 0 {
			silent = 0
		} else if silent++; silent > maxSilentReconnects {
			return errors.New("the Tapedeck owner keeps closing the connection without answering; see owner.log in the data dir")
		}
		if err := r.reconnect(ctx); err != nil {
			if errors.Is(err, errEditorGone) {
				return nil
			}
			return err
		}
	}
}

// copyAnswers copies the owner's messages on conn to the editor, line by
// line, striking the answered requests off r.pending, until conn ends. It
// returns the bytes copied.
func (r *relay) copyAnswers(conn net.Conn) (int64, error) {
	br := bufio.NewReaderSize(conn, 64<<10)
	var n int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			// A request's write records it before the owner can answer
			// (write holds r.mu across it), so an empty set means there
			// is nothing to strike and the line need not be parsed.
			r.mu.Lock()
			if len(r.pending) > 0 {
				if id := answeredID(line); id != nil {
					delete(r.pending, string(id))
				}
			}
			r.mu.Unlock()
			w, werr := r.out.Write(line)
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}

// ownerLostMessage is the error an editor gets for each request the owner
// was handling when it went away; the relay has by then connected, or is
// connecting, to the next owner, so trying again works.
const ownerLostMessage = "Tapedeck's server stopped while handling this request; it was restarted, try again"

// answerLost answers each lost request with a JSON-RPC internal error.
func (r *relay) answerLost(lost map[string]json.RawMessage) error {
	for _, id := range lost {
		msg, err := json.Marshal(struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Error   struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}{JSONRPC: "2.0", ID: id, Error: struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}{Code: -32603, Message: ownerLostMessage}})
		if err != nil {
			return fmt.Errorf("answering a request the lost owner dropped: %w", err)
		}
		if _, err := r.out.Write(append(msg, '\n')); err != nil {
			return fmt.Errorf("relaying to the editor: %w", err)
		}
	}
	return nil
}

// trackedRequestID returns the compact id of an editor's request whose
// answer a lost owner would take with it, nil for anything else:
// notifications, answers to the owner's own requests, and
// subscriptions/listen, which is replayed to the next owner and answered
// there.
func trackedRequestID(line []byte) json.RawMessage {
	if !bytes.Contains(line, []byte(`"id"`)) || !bytes.Contains(line, []byte(`"method"`)) {
		return nil
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(line, &msg) != nil || msg.Method == "" || msg.Method == "subscriptions/listen" {
		return nil
	}
	return compactID(msg.ID)
}

// answeredID returns the compact id of an owner's answer (a message with
// an id and no method), nil for anything else.
func answeredID(line []byte) json.RawMessage {
	if !bytes.Contains(line, []byte(`"id"`)) {
		return nil
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(line, &msg) != nil || msg.Method != "" {
		return nil
	}
	return compactID(msg.ID)
}

// compactID gives an id one spelling, so that 7 and " 7" match; nil for
// a missing or null id.
func compactID(id json.RawMessage) json.RawMessage {
	if len(id) == 0 || string(id) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, id) != nil {
		return nil
	}
	return buf.Bytes()
}

// errEditorGone stops a reconnect nobody waits for.
var errEditorGone = errors.New("the editor ended the session")

// editorGone reports whether the editor closed its side.
func (r *relay) editorGone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inClosed || r.closed
}

// reconnect finds the next owner and replays the session there. An owner
// that is still shutting down may accept and then drop the connection:
// that is retried until Options.Wait passes.
func (r *relay) reconnect(ctx context.Context) error {
	deadline := time.Now().Add(r.opts.Wait)
	for {
		next, err := r.connect(ctx)
		if err != nil {
			return fmt.Errorf("lost the Tapedeck owner and found no new one: %w", err)
		}
		err = r.replay(next)
		if err == nil {
			return nil
		}
		next.Close()
		if time.Now().After(deadline) || ctx.Err() != nil || r.editorGone() {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// maxSilentReconnects bounds reconnecting to owners that close at once.
const maxSilentReconnects = 3

// replay opens the editor's session on a new owner connection: it sends
// the saved initialize and drops the owner's answer (the editor has its
// own), sends the saved initialized and open subscriptions, and makes next
// the current connection.
func (r *relay) replay(next net.Conn) error {
	r.mu.Lock()
	initialize, initialized, id := r.initialize, r.initialized, r.initID
	listens := slices.Clone(r.listens)
	r.mu.Unlock()
	conn := net.Conn(next)
	if initialize != nil {
		if _, err := next.Write(initialize); err != nil {
			return fmt.Errorf("replaying the session to the new owner: %w", err)
		}
		br := bufio.NewReader(next)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("replaying the session to the new owner: %w", err)
			}
			var msg struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(line, &msg) == nil && bytes.Equal(msg.ID, id) {
				break
			}
		}
		if br.Buffered() > 0 {
			// Messages that came behind the answer are the editor's.
			conn = &bufferedConn{Conn: next, r: br}
		}
	}
	for _, line := range append([][]byte{initialized}, listens...) {
		if line == nil {
			continue
		}
		if _, err := next.Write(line); err != nil {
			return fmt.Errorf("replaying the session to the new owner: %w", err)
		}
	}
	r.mu.Lock()
	r.conn = conn
	r.cond.Broadcast()
	r.mu.Unlock()
	return nil
}

// bufferedConn reads what a bufio.Reader already holds before the conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// isClosedErr reports an error that only says the owner hung up.
func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// CloseWrite half-closes the underlying connection (see closeWrite).
func (c *bufferedConn) CloseWrite() error { return closeWrite(c.Conn) }

// closeWrite half-closes conn when it can; a named pipe cannot, so it is
// closed, which is the only end of session its owner can see.
func closeWrite(conn net.Conn) error {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return conn.Close()
}
