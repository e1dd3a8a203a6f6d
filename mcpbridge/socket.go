package mcpbridge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/peercred"
	"tapedeck.dev/tapedeck/sandbox"
)

// ListenSocket listens on the unix socket at path for the owner of a data
// dir; lock is that ownership, and proves that any socket file already at
// path was left by a dead owner (the OS released its lock), so it is
// removed. The socket's folder must exist and be private (paths.Ensure
// makes it 0700); the socket itself is made 0600.
//
// # Errors
//
// An error when something other than a socket is at path (nothing is
// removed then), or when listening fails.
func ListenSocket(path string, lock *ownerlock.Lock) (net.Listener, error) {
	if lock == nil {
		return nil, errors.New("listening on the socket needs ownership of the data dir (an owner lock)")
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket; move it away and start again", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing the stale socket %s left by a previous owner: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	// The folder is already 0700; the mode is a second fence, set before
	// anyone is served.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restricting %s to its owner: %w", path, err)
	}
	return ln, nil
}

// ServeSocket serves one MCP session per connection accepted on ln
// (newline-delimited JSON-RPC), many at once, until ctx is done or ln
// fails. Connections from another OS user are refused and logged; so are
// connections whose peer cannot be known. It closes ln, and every session,
// before it returns; it returns nil when ctx ended it.
//
// Closing ln stops new connections but keeps the sessions served until
// ctx is done: a hand-over closes ln, drains, then cancels ctx.
func (s *Server) ServeSocket(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait() // runs last: after the sessions were told to end
	// Sessions end after the listener closes, so that a relay reconnecting
	// at once finds no half-closed listener to connect to.
	sessions, endSessions := context.WithCancel(context.WithoutCancel(ctx))
	defer endSessions()
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		endSessions()
	})
	defer stop()
	uid := os.Getuid()
	backoff := 5 * time.Millisecond
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				<-ctx.Done() // handing over: the sessions go on until told
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of descriptors and the like: wait, as net/http does.
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			return fmt.Errorf("accepting on the socket: %w", err)
		}
		backoff = 5 * time.Millisecond
		peer, err := socketPeer(conn, uid)
		if err != nil {
			s.logger.Warn("socket connection refused", "reason", err)
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, w := guardStream(conn, conn)
			t := &mcp.IOTransport{Reader: r, Writer: w}
			if err := s.serveSession(sessions, t, peer); err != nil {
				s.logger.Debug("socket session ended", "client", peer.String(), "error", err)
			}
			conn.Close()
		}()
	}
}

// socketPeer identifies the process behind conn and refuses other users.
func socketPeer(conn net.Conn, uid int) (sandbox.Client, error) {
	cred, err := peercred.Get(conn)
	if err != nil {
		return sandbox.Client{}, fmt.Errorf("cannot tell who connected: %w", err)
	}
	if cred.UID != uid {
		return sandbox.Client{}, fmt.Errorf("uid %d (%s) is not this server's user (uid %d)", cred.UID, cred, uid)
	}
	c := sandbox.Client{Transport: "socket", PID: cred.PID, Process: cred.Name, UID: cred.UID}
	// An editor reaches the socket through `tapedeck mcp`; the process a
	// person knows is the relay's parent.
	if exe, err := os.Executable(); err == nil && cred.PID != 0 && cred.PID != os.Getpid() && sameProgram(cred.PID, exe) {
		if ppid, name := parentProcess(cred.PID); ppid > 1 {
			c.PID, c.Process = ppid, name
		}
	}
	return c, nil
}
