package wasi

import (
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// walkFlags open the directories a path walks through: O_PATH needs only
// search permission on them, not read, as a kernel path lookup does.
const walkFlags = unix.O_PATH

// setTimes sets the access and modification times of name in dir (of dir
// itself when name is "."), never following a link. On Linux, name "" sets
// them on the open file dir (utimensat with a NULL path).
func setTimes(dir int, name string, atime, mtime newTime) error {
	var ts [2]unix.Timespec
	var err error
	if ts[0], err = atime.timespec(); err != nil {
		return err
	}
	if ts[1], err = mtime.timespec(); err != nil {
		return err
	}
	if name != "" {
		return unix.UtimesNanoAt(dir, name, ts[:], unix.AT_SYMLINK_NOFOLLOW)
	}
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(dir), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func (t newTime) timespec() (unix.Timespec, error) {
	switch t.change {
	case timeNow:
		return unix.Timespec{Nsec: unix.UTIME_NOW}, nil
	case timeSet:
		if t.seconds > math.MaxInt64 {
			return unix.Timespec{}, unix.EOVERFLOW
		}
		ts, err := unix.TimeToTimespec(time.Unix(int64(t.seconds), int64(t.nanos)))
		if err != nil { // past what this platform's time_t holds
			return unix.Timespec{}, unix.EOVERFLOW
		}
		return ts, nil
	}
	return unix.Timespec{Nsec: unix.UTIME_OMIT}, nil
}
