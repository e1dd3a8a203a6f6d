//go:build windows

package localsock

import (
	"context"
	"fmt"
	"net"
	"os"

	"tapedeck.dev/tapedeck/internal/peercred"
	"tapedeck.dev/tapedeck/mcpbridge/winpipe"
)

// No Windows machine tests this file: `make test-windows` runs its tests
// as Windows programs under Wine (scripts/test-windows.sh); the pipe
// itself is winpipe's.

// listen creates the named pipe path (paths.SocketPath gives
// \\.\pipe\tapedeck-<user>-<hash>), which only this user may open.
func listen(path string) (net.Listener, error) {
	ln, err := winpipe.Listen(path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	return ln, nil
}

// Dial connects to the named pipe path, retrying while all its instances
// are busy until ctx is done, and checks that the process serving it runs
// as the current user (a pipe name, unlike a unix socket's folder, can be
// taken by anyone first).
//
// # Errors
//
// An error wrapping os.ErrNotExist when no server has the pipe; an error
// when its server runs as another user or the system refuses.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	return winpipe.Dial(ctx, path)
}

// Peer returns who is on the other end of conn, a connection accepted on a
// Listen listener. The pipe's DACL admits only this user, and the listener
// checked the client process's token before Accept returned it, so only
// the pid is left to learn. UID is os.Getuid(), which is -1 on Windows:
// users are SIDs there.
//
// # Errors
//
// An error when conn is not a connection from a Listen listener: deny by
// default.
func Peer(conn net.Conn) (peercred.Cred, error) {
	pid, ok := winpipe.PeerPID(conn)
	if !ok {
		return peercred.Cred{}, fmt.Errorf("cannot tell who connected: a %T is not a named pipe connection", conn)
	}
	return peercred.Cred{UID: os.Getuid(), PID: pid}, nil
}
