package autostart

import (
	"errors"
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

func enable(it Item) error {
	path, err := agentPath(it)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(launchAgent(it)))
}

func disable(it Item) error {
	path, err := agentPath(it)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}

func enabled(it Item) (bool, error) {
	path, err := agentPath(it)
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: read %s: %w", path, err)
	}
	return slices.Equal(launchAgentArgs(string(data)), it.Command), nil
}
