//go:build windows

package mcpbridge

import (
	"errors"
	"fmt"
	"net"

	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/mcpbridge/winpipe"
	"tapedeck.dev/tapedeck/sandbox"
)

// ListenSocket creates the named pipe path (paths.SocketPath gives
// \\.\pipe\tapedeck-<user>-<hash>) for the owner of a data dir: only the
// current user may open it, remote clients are rejected, and it fails when
// another process already holds the name. lock is the ownership of the
// data dir.
//
// # Errors
//
// An error when path is not a local pipe name, another process serves it,
// or the system refuses.
func ListenSocket(path string, lock *ownerlock.Lock) (net.Listener, error) {
	if lock == nil {
		return nil, errors.New("listening on the named pipe needs ownership of the data dir (an owner lock)")
	}
	ln, err := winpipe.Listen(path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	return ln, nil
}

// socketPeer identifies the process behind a pipe connection. The
// listener has already refused other users (the pipe's DACL, then the
// client process's token), so only the pid is left to learn.
func socketPeer(conn net.Conn, uid int) (sandbox.Client, error) {
	pid, ok := winpipe.PeerPID(conn)
	if !ok {
		return sandbox.Client{}, fmt.Errorf("cannot tell who connected: a %T is not a named pipe connection", conn)
	}
	return sandbox.Client{Transport: "socket", PID: pid, UID: uid}, nil
}
