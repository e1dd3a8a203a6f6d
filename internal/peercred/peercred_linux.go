//go:build linux

package peercred

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func fromFD(fd int) (Cred, error) {
	u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Cred{}, err
	}
	return Cred{UID: int(u.Uid), GID: int(u.Gid), PID: int(u.Pid)}, nil
}

// processName reads /proc/PID/comm; empty when the process is gone or
// /proc is not mounted.
func processName(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
