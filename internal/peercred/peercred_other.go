//go:build !linux && !darwin

package peercred

func fromFD(fd int) (Cred, error) { return Cred{}, ErrUnsupported }

func processName(pid int) string { return "" }
