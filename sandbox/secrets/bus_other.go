//go:build !linux

package secrets

// available has nothing to check: macOS and Windows keychains need no bus.
func (osKeyring) available() error { return nil }
