//go:build !windows

package mcpbridge

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"

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
