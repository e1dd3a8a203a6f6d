//go:build !darwin && !windows

package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// entryPath is $XDG_CONFIG_HOME/autostart/<id>.desktop (~/.config when unset).
func entryPath(it Item) (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("autostart: no home folder to keep the autostart entry in: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", it.ID+".desktop"), nil
}

// entry is this platform's start-at-login file.
var entry = entryFile{
	path:   entryPath,
	render: desktopEntry,
	launches: func(content string, it Item) bool {
		return desktopEntryExec(content) == execLine(it.Command)
	},
}

func enable(it Item) error          { return entry.enable(it) }
func disable(it Item) error         { return entry.disable(it) }
func enabled(it Item) (bool, error) { return entry.enabled(it) }
