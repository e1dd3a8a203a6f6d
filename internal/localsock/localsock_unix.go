//go:build !windows

package localsock

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"

	"tapedeck.dev/tapedeck/internal/peercred"
)

// listen removes a dead owner's socket at path, listens there and makes
// the socket 0600.
func listen(path string) (net.Listener, error) {
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

// Dial connects to the unix socket at path. Who serves it is not checked:
// the socket's folder is the user's own (paths.Ensure refuses any other).
//
// # Errors
//
// The dial's error, which wraps os.ErrNotExist (ENOENT) when nothing is
// at path.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}

// Peer returns who is on the other end of conn, a connection accepted on a
// Listen listener, when it runs as this process's user.
//
// # Errors
//
// An error when the peer runs as another user, or cannot be known (conn is
// not a unix socket connection, or the system does not tell): deny by
// default.
func Peer(conn net.Conn) (peercred.Cred, error) {
	cred, err := peercred.Get(conn)
	if err != nil {
		return peercred.Cred{}, fmt.Errorf("cannot tell who connected: %w", err)
	}
	if uid := os.Getuid(); cred.UID != uid {
		return peercred.Cred{}, fmt.Errorf("uid %d (%s) is not this server's user (uid %d)", cred.UID, cred, uid)
	}
	return cred, nil
}
