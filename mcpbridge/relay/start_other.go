//go:build !unix

package relay

import "syscall"

// detachedAttr leaves the process in the console's group where setsid does
// not exist.
func detachedAttr() *syscall.SysProcAttr { return nil }
