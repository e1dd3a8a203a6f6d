//go:build (!unix && !windows) || solaris || aix

package ownerlock

import (
	"errors"
	"os"
)

// lockFile has no flock to use here (Solaris and AIX have only fcntl locks,
// which a process does not hold against itself): ownership is unsupported.
func lockFile(f *os.File) (held bool, err error) { return false, errors.ErrUnsupported }

func unlockFile(f *os.File) error { return errors.ErrUnsupported }
