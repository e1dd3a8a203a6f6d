//go:build linux

package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// statusNotifierWatcher is the D-Bus name of the service a tray icon
// registers with on Linux desktops (KDE, GNOME with the AppIndicator
// extension, XFCE, …).
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// checkTray checks that the desktop can show Tapedeck's tray icon.
func checkTray(ctx context.Context, env *Env) check {
	c := check{Name: "tray"}
	addr := env.getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		c.Status, c.Detail = checkWarn, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no tray icon"
		c.Fix = "fine for headless use (`tapedeck serve`); on a desktop, log in to a graphical session"
		return c
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		c.Status, c.Detail, c.Fix = checkWarn, "cannot reach the D-Bus session bus: "+err.Error(), "log in to a graphical session"
		return c
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var has bool
	err = conn.BusObject().CallWithContext(cctx, "org.freedesktop.DBus.NameHasOwner", 0, statusNotifierWatcher).Store(&has)
	switch {
	case err != nil:
		c.Status, c.Detail = checkWarn, fmt.Sprintf("cannot ask the session bus for a tray host: %v", err)
	case !has:
		c.Status, c.Detail = checkWarn, "no tray host on this desktop ("+statusNotifierWatcher+" is not running)"
		c.Fix = "on GNOME, install the AppIndicator extension (gnome-shell-extension-appindicator); Tapedeck still works without a tray"
	default:
		c.Status, c.Detail = checkOK, "a tray host is running"
	}
	return c
}
