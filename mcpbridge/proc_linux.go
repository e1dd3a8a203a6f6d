package mcpbridge

import (
	"os"
	"strconv"
	"strings"
)

// sameProgram reports whether process pid runs the executable exe.
func sameProgram(pid int, exe string) bool {
	target, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil && target == exe
}

// parentProcess returns the parent of pid and the parent's short name; 0
// when unknown.
func parentProcess(pid int) (int, string) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	// The name in parentheses may hold spaces and parentheses: the fields
	// after it start past the last ')'.
	end := strings.LastIndexByte(string(stat), ')')
	if end < 0 {
		return 0, ""
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 2 {
		return 0, ""
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return 0, ""
	}
	comm, _ := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/comm")
	return ppid, strings.TrimSpace(string(comm))
}
