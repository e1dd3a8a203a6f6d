//go:build windows

package relay

import (
	"context"
	"net"

	"tapedeck.dev/tapedeck/mcpbridge/winpipe"
)

// dialOwner connects to the owner's named pipe, checking it is served by
// this user.
func dialOwner(ctx context.Context, pipe string) (net.Conn, error) {
	return winpipe.Dial(ctx, pipe)
}
