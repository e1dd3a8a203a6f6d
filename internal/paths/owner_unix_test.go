//go:build unix

package paths

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

func TestEnsureRefusesUnsafeSocketDir(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, sockDir string)
	}{
		{name: "loose_mode", prepare: func(t *testing.T, sockDir string) {
			mustMkdir(t, sockDir, 0o755)
		}},
		{name: "group_writable", prepare: func(t *testing.T, sockDir string) {
			mustMkdir(t, sockDir, 0o770)
		}},
		{name: "symlink", prepare: func(t *testing.T, sockDir string) {
			other := t.TempDir()
			if err := os.Symlink(other, sockDir); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "file", prepare: func(t *testing.T, sockDir string) {
			if err := os.WriteFile(sockDir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "other_owner", prepare: func(t *testing.T, sockDir string) {
			if os.Getuid() != 0 {
				t.Skip("only root can create a folder owned by another user; CI runs this as root")
			}
			nobody, err := user.Lookup("nobody")
			if err != nil {
				t.Skipf("no user nobody to own the folder: %v", err)
			}
			uid, _ := strconv.Atoi(nobody.Uid)
			mustMkdir(t, sockDir, 0o700)
			if err := os.Chown(sockDir, uid, -1); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Resolve(Options{DataDir: filepath.Join(t.TempDir(), "state")})
			if err != nil {
				t.Fatal(err)
			}
			sockDir := filepath.Dir(SocketPath(d))
			mustMkdir(t, filepath.Dir(sockDir), 0o700)
			tt.prepare(t, sockDir)
			err = Ensure(d)
			if !errors.Is(err, ErrUnsafeDir) {
				t.Fatalf("Ensure = %v, want ErrUnsafeDir", err)
			}
		})
	}
}

func TestEnsureFallbackSocketDir(t *testing.T) {
	// A data dir too long for a socket path sends the socket to
	// /tmp/tapedeck-<uid>; Ensure must create it private.
	long := t.TempDir()
	for len(long) < 120 {
		long = filepath.Join(long, "deeper-folder")
	}
	d, err := Resolve(Options{DataDir: long})
	if err != nil {
		t.Fatal(err)
	}
	sock := SocketPath(d)
	if filepath.Dir(sock) != "/tmp/tapedeck-"+strconv.Itoa(os.Getuid()) {
		t.Fatalf("SocketPath = %s, want the /tmp fallback", sock)
	}
	if err := Ensure(d); err != nil {
		t.Fatalf("Ensure: %v (if /tmp/tapedeck-%d is left over with a loose mode, that refusal is correct: remove it)", err, os.Getuid())
	}
	fi, err := os.Lstat(filepath.Dir(sock))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("fallback folder mode %v, want 0700", fi.Mode().Perm())
	}
}

func mustMkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}
