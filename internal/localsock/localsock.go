// Package localsock is the local socket the owner of a data dir serves, on
// each system: a unix socket (0600, in the 0700 folder paths.Ensure
// checks), or on Windows a named pipe only the current user can open
// (package winpipe). The MCP socket, the person's control socket, the
// `tapedeck mcp` relay and the command line all listen, dial and check
// peers through it, so each system's rules live in one place.
//
//	ln, err := localsock.Listen(paths.SocketPath(dirs), lock)
//	conn, err := ln.Accept()
//	if _, err := localsock.Peer(conn); err != nil {
//		conn.Close() // another user, or a peer nobody can name
//	}
//
//	conn, err := localsock.Dial(ctx, paths.SocketPath(dirs))
//
// The path is what paths.SocketPath gives (a pipe name, \\.\pipe\…, on
// Windows) or a name derived from it, such as the control socket's.
package localsock

import (
	"errors"
	"net"

	"tapedeck.dev/tapedeck/internal/ownerlock"
)

// Listen listens on path for the owner of a data dir; lock is that
// ownership. Only this OS user may connect.
//
// On unix, path is a socket in a folder paths.Ensure made private; holding
// lock proves that a socket file already at path was left by a dead owner
// (the OS released its lock), so it is removed, and the new socket is made
// 0600 before anyone is served. On Windows, path is a pipe name
// (\\.\pipe\…): the pipe admits only the user's SID, rejects remote
// clients, and fails when another process already holds the name; a pipe
// vanishes with its process, so nothing stale is left.
//
// # Errors
//
// An error when lock is nil; when something other than a socket is at path
// (nothing is removed then), or path is not a local pipe name; when
// another process serves the pipe; when listening fails.
func Listen(path string, lock *ownerlock.Lock) (net.Listener, error) {
	if lock == nil {
		return nil, errors.New("listening on the local socket needs ownership of the data dir (an owner lock)")
	}
	return listen(path)
}
