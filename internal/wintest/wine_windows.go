//go:build windows

package wintest

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// wineVersion asks ntdll for wine_get_version, an export only Wine's
// ntdll has (Wine's own documented way to tell it from Windows).
func wineVersion() (string, bool) {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return "", false
	}
	p, _, _ := proc.Call()
	if p == 0 {
		return "", true
	}
	// p points at a static string in ntdll; read through its address
	// rather than convert the uintptr (which vet rightly distrusts).
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&p))), true
}
