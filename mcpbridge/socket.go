package mcpbridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/sandbox"
)

// ListenSocket listens on the MCP socket at path (paths.SocketPath) for
// the owner of a data dir, whose ownership lock is: a unix socket only
// this user may use, replacing a dead owner's stale file, or on Windows a
// named pipe only this user may open. See localsock.Listen for each
// system's rules and errors.
func ListenSocket(path string, lock *ownerlock.Lock) (net.Listener, error) {
	return localsock.Listen(path, lock)
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
		peer, err := socketPeer(conn)
		if err != nil {
			s.logger.Warn("socket connection refused", "reason", err)
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			track := s.answers.session()
			defer track.end()
			r, w := guardStream(conn, conn, track)
			t := &mcp.IOTransport{Reader: r, Writer: w}
			if err := s.serveSession(sessions, t, peer); err != nil {
				s.logger.Debug("socket session ended", "client", peer.String(), "error", err)
			}
			conn.Close()
		}()
	}
}

// socketPeer identifies the process behind conn and refuses other users.
func socketPeer(conn net.Conn) (sandbox.Client, error) {
	cred, err := localsock.Peer(conn)
	if err != nil {
		return sandbox.Client{}, err
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
