package desktop

import (
	"os"
	"runtime"

	"github.com/godbus/dbus/v5"
)

// statusNotifierWatcher is the DBus name a Linux tray host (a panel's
// StatusNotifier host) owns; without it a tray icon shows nowhere.
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// trayHost reports whether a tray icon can show, and if not, why in words
// a person understands. macOS and Windows always have a tray.
func trayHost() (ok bool, why string) {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" && runtime.GOOS != "openbsd" && runtime.GOOS != "netbsd" {
		return true, ""
	}
	// Without an address godbus would try to launch a bus of its own.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false, "there is no DBus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no tray icon can be shown"
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false, "the DBus session bus does not answer (" + err.Error() + "), so no tray icon can be shown"
	}
	defer conn.Close()
	var owned bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, statusNotifierWatcher).Store(&owned)
	if err != nil || !owned {
		return false, "this desktop has no system tray (nothing owns " + statusNotifierWatcher + " on the session bus)"
	}
	return true, ""
}
