//go:build !windows

package winpipe

import (
	"context"
	"fmt"
	"net"
)

// Listen needs Windows.
func Listen(name string) (net.Listener, error) {
	return nil, fmt.Errorf("listening on the named pipe %s: %w", name, ErrUnsupported)
}

// Dial needs Windows.
func Dial(ctx context.Context, name string) (net.Conn, error) {
	return nil, fmt.Errorf("connecting to the named pipe %s: %w", name, ErrUnsupported)
}

// PeerPID needs Windows.
func PeerPID(conn net.Conn) (int, bool) { return 0, false }
