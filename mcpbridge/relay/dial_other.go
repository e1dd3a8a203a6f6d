//go:build !windows

package relay

import (
	"context"
	"net"
)

// dialOwner connects to the owner's unix socket.
func dialOwner(ctx context.Context, socket string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", socket)
}
