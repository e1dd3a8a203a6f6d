//go:build !windows

package localsock

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"tapedeck.dev/tapedeck/internal/ownerlock"
)

// TestListenStaleAndForeignFiles: the owner replaces a socket a dead owner
// left behind, and never a file that is not a socket.
func TestListenStaleAndForeignFiles(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr bool
	}{
		{"nothing", func(*testing.T, string) {}, false},
		{"staleSocket", func(t *testing.T, path string) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			ln.(*net.UnixListener).SetUnlinkOnClose(false) // as a crashed owner leaves it
			ln.Close()
		}, false},
		{"regularFile", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortTempDir(t)
			lock, err := ownerlock.Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Close()
			path := filepath.Join(dir, "mcp.sock")
			tt.prepare(t, path)
			ln, err := Listen(path, lock)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Listen: err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if b, _ := os.ReadFile(path); string(b) != "mine" {
					t.Error("a file that is not a socket was touched")
				}
				return
			}
			ln.Close()
		})
	}
}
