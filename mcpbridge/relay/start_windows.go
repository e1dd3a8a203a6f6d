package relay

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// detachedAttr starts the owner without the editor's console and outside
// its process group, so closing that console or pressing Ctrl+C in it does
// not end the owner that every editor shares.
func detachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.DETACHED_PROCESS | windows.CREATE_NEW_PROCESS_GROUP, HideWindow: true}
}
