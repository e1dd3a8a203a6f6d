//go:build !windows

package relay

import (
	"net"
	"path/filepath"
)

// testSocket is the local socket a test's fake owner serves: a unix socket
// in the test's folder dir.
func testSocket(dir string) string { return filepath.Join(dir, "s") }

// listenTest listens on socket as a fake owner, without the owner lock
// localsock.Listen needs (the tests write the lock file's record by hand).
func listenTest(socket string) (net.Listener, error) { return net.Listen("unix", socket) }
