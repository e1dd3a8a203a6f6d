//go:build !unix

package store

import (
	"errors"
	"syscall"
)

// isNoSpace knows only ENOSPC here; Windows reports a full disk as
// ERROR_DISK_FULL, which maps to it in the syscall package.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC)
}
