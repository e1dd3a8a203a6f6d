//go:build !darwin && !windows

package autostart

import (
	"errors"
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

func enable(it Item) error {
	path, err := entryPath(it)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(desktopEntry(it)))
}

func disable(it Item) error {
	path, err := entryPath(it)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}

func enabled(it Item) (bool, error) {
	path, err := entryPath(it)
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
	return desktopEntryExec(string(data)) == execLine(it.Command), nil
}
