//go:build unix && !linux

package wasi

import "golang.org/x/sys/unix"

// walkFlags open the directories a path walks through. Without Linux's
// O_PATH a directory is opened for reading, so one the user can search but
// not read cannot be walked through here.
const walkFlags = unix.O_RDONLY

// setTimes is not served outside Linux: x/sys has no UTIME_OMIT there.
func setTimes(dir int, name string, atime, mtime newTime) error {
	return codeError("unsupported")
}
