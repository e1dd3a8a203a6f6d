// Package autostart makes a program start when the person logs in: an XDG
// autostart entry on Linux and other Unix desktops, a LaunchAgent on macOS,
// and the HKCU Run key on Windows.
//
// Each platform keeps one small file (or registry value) named after
// Item.ID; Enable writes it, Disable removes it, Enabled reports whether it
// is there and still points at the same command.
package autostart

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Item is the program to start at login.
type Item struct {
	// ID names the entry: a reverse-DNS name such as "dev.tapedeck.Tapedeck".
	// It becomes a file name or a registry value name, so it may hold only
	// letters, digits, '.', '-' and '_'.
	ID string
	// Name is what a person sees in their desktop's list of startup programs.
	Name string
	// Command is the program (an absolute path) and its arguments.
	Command []string
}

func (it Item) validate() error {
	if it.ID == "" {
		return errors.New("autostart: Item.ID is empty")
	}
	for _, r := range it.ID {
		ok := r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return fmt.Errorf("autostart: Item.ID %q may hold only letters, digits, '.', '-' and '_'", it.ID)
		}
	}
	if len(it.Command) == 0 || !filepath.IsAbs(it.Command[0]) {
		return fmt.Errorf("autostart: the command %q must start with an absolute program path", strings.Join(it.Command, " "))
	}
	return nil
}

// Enable makes it start at login, replacing an older entry with the same ID.
func Enable(it Item) error {
	if err := it.validate(); err != nil {
		return err
	}
	return enable(it)
}

// Disable stops it starting at login; an entry that is not there is no error.
func Disable(it Item) error {
	if err := it.validate(); err != nil {
		return err
	}
	return disable(it)
}

// Enabled reports whether it starts at login with exactly its Command (an
// entry left by an older install at another path does not count).
func Enabled(it Item) (bool, error) {
	if err := it.validate(); err != nil {
		return false, err
	}
	return enabled(it)
}
