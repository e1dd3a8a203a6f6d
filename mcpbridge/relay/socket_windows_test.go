//go:build windows

package relay

import (
	"net"
	"path/filepath"

	"tapedeck.dev/tapedeck/mcpbridge/winpipe"
)

// testSocket is the local socket a test's fake owner serves: a named pipe
// named after the test's folder dir, which is unique.
func testSocket(dir string) string { return `\\.\pipe\tapedeck-test-` + filepath.Base(dir) }

// listenTest listens on socket as a fake owner, without the owner lock
// localsock.Listen needs (the tests write the lock file's record by hand).
func listenTest(socket string) (net.Listener, error) { return winpipe.Listen(socket) }
