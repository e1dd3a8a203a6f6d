//go:build unix

package relay

import (
	"errors"
	"syscall"
)

// processRunning reports whether pid exists. A process that exited but
// was not yet reaped by its parent (a zombie) still counts: the wait for
// it is bounded anyway.
func processRunning(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
