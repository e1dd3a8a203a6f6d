// Package assets holds the files Tapedeck builds into its binary.
//
// The icons (icon.png, tray-light.png, tray-dark.png) are drawn by
// app/internal/iconsgen: `go run ./app/internal/iconsgen -out assets`
// redraws them.
package assets

import _ "embed"

var (
	//go:embed icon.png
	icon []byte
	//go:embed tray-light.png
	trayLight []byte
	//go:embed tray-dark.png
	trayDark []byte
)

// Icon is the app icon (256×256 PNG).
func Icon() []byte { return icon }

// TrayIcon is the tray icon (64×64 PNG) for a dark or a light panel: light
// ink on dark panels, dark ink on light ones.
func TrayIcon(darkPanel bool) []byte {
	if darkPanel {
		return trayDark
	}
	return trayLight
}
