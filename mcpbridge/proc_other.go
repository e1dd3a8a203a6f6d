//go:build !linux

package mcpbridge

// sameProgram needs /proc; elsewhere the relay itself is reported.
func sameProgram(pid int, exe string) bool { return false }

func parentProcess(pid int) (int, string) { return 0, "" }
