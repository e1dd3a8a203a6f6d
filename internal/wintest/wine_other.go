//go:build !windows

package wintest

// wineVersion: Wine runs Windows programs only.
func wineVersion() (string, bool) { return "", false }
