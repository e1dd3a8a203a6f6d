//go:build !linux

package cli

import "context"

// checkTray: macOS and Windows always have a menu bar or notification area.
func checkTray(context.Context, *Env) check {
	return check{Name: "tray", Status: checkOK, Detail: "the system tray is part of this OS"}
}
