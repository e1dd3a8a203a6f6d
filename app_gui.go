//go:build !nogui

package main

import (
	"context"
	"fmt"
	"os"
)

// runApp starts the desktop app.
// TODO(issue 5): the Fyne tray app; until then this explains what is there.
func runApp(ctx context.Context) int {
	fmt.Fprintln(os.Stderr, "tapedeck: the desktop app is not built yet; run 'tapedeck help' for the commands")
	return 2
}
