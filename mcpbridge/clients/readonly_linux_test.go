//go:build linux

package clients

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// readOnlyChildEnv names the folder the re-run test works in.
const readOnlyChildEnv = "TAPEDECK_CLIENTS_READONLY_CHILD"

// TestReadOnlyFolderAsAnotherUser connects an editor whose config folder
// the user may not write. Root may write anywhere, and CI runs as root, so
// the test re-runs itself as nobody (setpriv) on a folder nobody owns.
func TestReadOnlyFolderAsAnotherUser(t *testing.T) {
	if dir := os.Getenv(readOnlyChildEnv); dir != "" {
		readOnlyChild(t, dir)
		return
	}
	root, err := os.MkdirTemp("", "tapedeck-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(root, "home", ".cursor"), 0o755)
		os.RemoveAll(root)
	})
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	cursorDir := filepath.Join(root, "home", ".cursor")
	config := filepath.Join(cursorDir, "mcp.json")
	original := []byte("{\n  \"mcpServers\": {}\n}\n")
	for _, d := range []string{cursorDir, filepath.Join(root, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(config, original, 0o644); err != nil {
		t.Fatal(err)
	}

	if os.Geteuid() != 0 {
		// Permission bits already bind this user: no need to switch.
		if err := os.Chmod(cursorDir, 0o555); err != nil {
			t.Fatal(err)
		}
		readOnlyChild(t, root)
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("running as root needs setpriv (util-linux, installed by scripts/install-deps.sh) to test as another user: %v", err)
	}
	// nobody must be able to run the test binary, which go test keeps in a
	// folder only root may enter.
	self := filepath.Join(root, "clients.test")
	if err := copyFile(os.Args[0], self, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chownTree(root, "nobody", "nogroup"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cursorDir, 0o555); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
		self, "-test.run=^TestReadOnlyFolderAsAnotherUser$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), readOnlyChildEnv+"="+root)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS")) {
		t.Fatalf("the test as nobody failed: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(config); !bytes.Equal(got, original) {
		t.Fatalf("the read-only config changed:\n%s", got)
	}
}

func readOnlyChild(t *testing.T, root string) {
	home := filepath.Join(root, "home")
	config := filepath.Join(home, ".cursor", "mcp.json")
	before, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{
		Getenv:  func(k string) string { return map[string]string{"HOME": home}[k] },
		GOOS:    "linux",
		DataDir: filepath.Join(root, "data"),
		Binary:  "/opt/tapedeck/bin/tapedeck",
	})
	_, err = m.Connect("cursor", false)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("connect into a read-only folder: err = %v, want a permission error", err)
	}
	if got, _ := os.ReadFile(config); !bytes.Equal(got, before) {
		t.Fatalf("the config changed:\n%s", got)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(home, ".cursor", ".*tmp*")); len(leftovers) > 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func chownTree(root, user, group string) error {
	out, err := exec.Command("chown", "-R", user+":"+group, root).CombinedOutput()
	if err != nil {
		return errors.New(string(out))
	}
	return nil
}
