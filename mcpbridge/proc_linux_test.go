package mcpbridge

import (
	"os"
	"testing"
)

func TestParentProcess(t *testing.T) {
	ppid, name := parentProcess(os.Getpid())
	if ppid != os.Getppid() || name == "" {
		t.Errorf("parentProcess(self) = %d %q, want %d and a name", ppid, name, os.Getppid())
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !sameProgram(os.Getpid(), exe) {
		t.Error("sameProgram(self, own executable) = false")
	}
	if sameProgram(os.Getppid(), exe) {
		t.Error("sameProgram(parent, own executable) = true")
	}
}
