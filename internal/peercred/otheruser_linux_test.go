//go:build linux

package peercred

import (
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// dialEnv makes the test binary a client that connects to the named socket,
// says hello and waits for the server to hang up (see TestMain).
const dialEnv = "PEERCRED_TEST_DIAL"

func TestMain(m *testing.M) {
	if sock := os.Getenv(dialEnv); sock != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		c.Write([]byte("hello\n"))
		io.Copy(io.Discard, c)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestGetOtherUser connects from a process running as nobody:nogroup and
// checks that the server sees that user, not the one it runs as.
func TestGetOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching to another user needs root; CI runs the tests as root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is not installed; scripts/install-deps.sh installs it for CI")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody to switch to: %v", err)
	}
	nogroup, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Fatalf("no group nogroup to switch to: %v", err)
	}

	// nobody must be able to reach the socket and run the test binary, so
	// both live in a folder open to all, outside the test's private temp dir.
	dir, err := os.MkdirTemp("", "peercred-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "peercred.test")
	copyFile(t, self, exe)

	sock := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(setpriv, "--reuid="+nobody.Uid, "--regid="+nogroup.Gid, "--clear-groups", exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), dialEnv+"="+sock, "GORACE=atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()

	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// Read the hello first, so the child is surely connected and running.
	buf := make([]byte, 6)
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	got, err := Get(conn)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	wantUID, _ := strconv.Atoi(nobody.Uid)
	wantGID, _ := strconv.Atoi(nogroup.Gid)
	want := Cred{UID: wantUID, GID: wantGID, PID: cmd.Process.Pid, Name: "peercred.test"}
	if got != want {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if got.UID == os.Getuid() {
		t.Errorf("peer seen as our own uid %d", got.UID)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
