//go:build !unix

package relay

import "syscall"

// detachedAttr leaves the process in the console's group where setsid does
// not exist (Windows: the named-pipe transport is not built yet).
func detachedAttr() *syscall.SysProcAttr { return nil }
