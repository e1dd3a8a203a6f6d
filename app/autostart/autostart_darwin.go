package autostart

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// agentPath is ~/Library/LaunchAgents/<id>.plist.
func agentPath(it Item) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: no home folder to keep the LaunchAgent in: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", it.ID+".plist"), nil
}

// entry is this platform's start-at-login file.
var entry = entryFile{
	path:   agentPath,
	render: launchAgent,
	launches: func(content string, it Item) bool {
		return slices.Equal(launchAgentArgs(content), it.Command)
	},
}

func enable(it Item) error          { return entry.enable(it) }
func disable(it Item) error         { return entry.disable(it) }
func enabled(it Item) (bool, error) { return entry.enabled(it) }
