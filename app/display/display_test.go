package display

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// listenUnix serves a unix socket at path that accepts and hangs up.
func listenUnix(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestCheck(t *testing.T) {
	xdir, err := os.MkdirTemp("", "x11")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(xdir)
	listenUnix(t, filepath.Join(xdir, "X7"))
	runtimeDir := t.TempDir()
	listenUnix(t, filepath.Join(runtimeDir, "wayland-1"))
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	port := tcp.Addr().(*net.TCPAddr).Port
	tcpDisplay := "127.0.0.1:" + strconv.Itoa(port-6000) // ephemeral ports are far above 6000

	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" means a display is there
	}{
		{"x socket", map[string]string{"DISPLAY": ":7"}, ""},
		{"x socket with screen", map[string]string{"DISPLAY": "unix:7.0"}, ""},
		{"x over tcp", map[string]string{"DISPLAY": tcpDisplay}, ""},
		{"wayland", map[string]string{"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": runtimeDir}, ""},
		{"wayland by path", map[string]string{"WAYLAND_DISPLAY": filepath.Join(runtimeDir, "wayland-1")}, ""},
		{"stale wayland, live x", map[string]string{"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": runtimeDir, "DISPLAY": ":7"}, ""},
		{"nothing set", nil, "$DISPLAY and $WAYLAND_DISPLAY are empty"},
		{"x server gone", map[string]string{"DISPLAY": ":8"}, "DISPLAY=:8: connect: no such file or directory"},
		{"not a display name", map[string]string{"DISPLAY": "nonsense"}, "DISPLAY=nonsense: not an X display name"},
		{"both gone", map[string]string{"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": runtimeDir, "DISPLAY": ":8"}, "WAYLAND_DISPLAY=wayland-9: connect: no such file or directory\nDISPLAY=:8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check(context.Background(), env(tt.env), xdir)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("check: %v, want a display", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("check: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
