//go:build !windows

package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// entryFile is start at login kept as one file: a LaunchAgent property
// list on macOS, an XDG autostart entry elsewhere. Each platform says where
// the file lives, what it holds, and whether a file's content launches the
// item's command.
type entryFile struct {
	path     func(Item) (string, error)
	render   func(Item) string
	launches func(content string, it Item) bool
}

// enable writes the entry atomically, so a login never finds half of it.
func (f entryFile) enable(it Item) error {
	path, err := f.path(it)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("autostart: create %s: %w", filepath.Dir(path), err)
	}
	if err := atomicfile.WriteFile(path, []byte(f.render(it)), 0o644); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

func (f entryFile) disable(it Item) error {
	path, err := f.path(it)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}

func (f entryFile) enabled(it Item) (bool, error) {
	path, err := f.path(it)
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
	return f.launches(string(data), it), nil
}
