//go:build linux

package secrets

import (
	"errors"
	"os"
	"path/filepath"
)

// available checks for a D-Bus session bus before go-keyring is used:
// without one, its D-Bus library autolaunches a private bus (dbus-launch),
// which starts a keyring daemon that outlives Tapedeck and holds nothing the
// person can reach.
func (osKeyring) available() error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		if _, err := os.Stat(filepath.Join(rt, "bus")); err == nil {
			return nil
		}
	}
	return errors.New("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset")
}
