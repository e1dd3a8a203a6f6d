//go:build darwin

package peercred

import (
	"golang.org/x/sys/unix"
)

func fromFD(fd int) (Cred, error) {
	x, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return Cred{}, err
	}
	c := Cred{UID: int(x.Uid)}
	if x.Ngroups > 0 {
		c.GID = int(x.Groups[0])
	}
	// LOCAL_PEERPID arrived in macOS 10.8; without it the pid stays 0.
	if pid, err := unix.GetsockoptInt(fd, unix.SOL_LOCAL, unix.LOCAL_PEERPID); err == nil {
		c.PID = pid
	}
	return c, nil
}

// processName asks the kernel for the process's p_comm (no cgo needed,
// unlike libproc's proc_name); empty when the process is gone.
func processName(pid int) string {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) {
		return ""
	}
	comm := kp.Proc.P_comm[:]
	for i, b := range comm {
		if b == 0 {
			comm = comm[:i]
			break
		}
	}
	return string(comm)
}
