//go:build !unix && !windows

package relay

import "syscall"

// detachedAttr leaves the process in its parent's group where neither setsid
// nor Windows' detached processes exist.
func detachedAttr() *syscall.SysProcAttr { return nil }
