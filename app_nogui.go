//go:build nogui

package main

import (
	"context"
	"fmt"
	"os"
)

// runApp in a headless build explains that there is no desktop app.
func runApp(ctx context.Context) int {
	fmt.Fprintln(os.Stderr, "tapedeck: this build has no desktop app (built with -tags nogui); run 'tapedeck help' for the commands")
	return 2
}
