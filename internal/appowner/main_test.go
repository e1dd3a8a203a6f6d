//go:build unix

// The tests dial the unix socket and hand the lock between processes with
// flock; Windows' named pipes are tested in mcpbridge.

package appowner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"

	"tapedeck.dev/tapedeck/internal/cli"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
)

// The test binary re-executed plays the other processes of a take-over.
const (
	roleEnv    = "TAPEDECK_TEST_ROLE"
	roleServe  = "serve"  // `tapedeck serve` for dirEnv
	roleHolder = "holder" // runHolder
	dirEnv     = "TAPEDECK_TEST_DIR"
	// successorEnv set makes a holder pass its lock on to a new holder
	// when asked to hand over; inheritEnv set makes it take the lock from
	// fd 3 instead of locking the file itself.
	successorEnv = "TAPEDECK_TEST_SUCCESSOR"
	inheritEnv   = "TAPEDECK_TEST_INHERIT_LOCK"
	// holderLifetime ends a holder that a failed test left behind.
	holderLifetime = 5 * time.Minute
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case roleServe:
		os.Exit(cli.Run(context.Background(), &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, DataDir: os.Getenv(dirEnv)}, []string{"serve"}))
	case roleHolder:
		if err := runHolder(os.Getenv(dirEnv), os.Getenv(successorEnv) != ""); err != nil {
			fmt.Fprintln(os.Stderr, "holder:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHolder is a headless owner written out by hand, for the take-over in
// which the owner changes: it holds dir's lock with flock on a file it
// opens (or inherits as fd 3), records itself in it as ownerlock does,
// serves MCP on the socket with a real Host, and prints "ready". Asked to
// hand over, it stops accepting and then either passes its lock to a new
// holder it starts (successor) — so that the lock is never free in
// between, as when an editor's relay's new headless owner wins the race for
// it — or drains and releases the lock. It leaves marker files in dir:
// holder-PID, asked-PID, then passed-PID or released-PID.
func runHolder(dir string, successor bool) error {
	dirs, err := resolve(dir)
	if err != nil {
		return err
	}
	if err := paths.Ensure(dirs); err != nil {
		return err
	}
	var f *os.File
	if os.Getenv(inheritEnv) != "" {
		f = os.NewFile(3, ownerlock.FileName)
	} else {
		if f, err = os.OpenFile(filepath.Join(dir, ownerlock.FileName), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			return fmt.Errorf("locking: %w", err)
		}
	}
	socket := paths.SocketPath(dirs)
	os.Remove(socket) // the previous holder's, which closed its listener
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	// Recorded once it listens, so that whoever reads the record can ask.
	rec, _ := json.Marshal(ownerlock.Owner{PID: os.Getpid(), Started: time.Now().UTC()})
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(append(rec, '\n'), 0); err != nil {
		return err
	}
	if err := mark(dir, "holder"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), holderLifetime)
	defer cancel()
	o, err := owner.Open(ctx, owner.Options{Dirs: dirs, SecretsFileOnly: true})
	if err != nil {
		return err
	}
	defer o.Close(context.Background())
	handover := make(chan struct{})
	srv := mcpbridge.New(o.Host, mcpbridge.Options{OnHandover: func(int) { close(handover) }})
	defer srv.Close()
	served := make(chan error, 1)
	go func() { served <- srv.ServeSocket(ctx, ln) }()
	fmt.Println("ready")
	select {
	case <-handover:
	case <-ctx.Done():
		return ctx.Err()
	}
	ln.Close()
	if err := mark(dir, "asked"); err != nil {
		return err
	}
	// As serve does: the answer to the hand-over (and to calls in flight)
	// is written before the sessions end.
	if err := srv.Drain(ctx); err != nil {
		return err
	}
	if successor {
		next := exec.Command(os.Args[0])
		next.Env = append(without(os.Environ(), successorEnv), inheritEnv+"=1")
		next.ExtraFiles = []*os.File{f} // the same open file, so the same flock
		next.Stderr = os.Stderr
		if err := waitReady(next); err != nil {
			return fmt.Errorf("starting the successor: %w", err)
		}
		// It is reparented when this process exits; it exits by itself.
		if err := mark(dir, "passed"); err != nil {
			return err
		}
	} else {
		if err := mark(dir, "released"); err != nil {
			return err
		}
		f.Truncate(0)
		if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
			return err
		}
	}
	f.Close()
	cancel()
	return <-served
}

// mark leaves the marker file what-PID in dir.
func mark(dir, what string) error {
	return os.WriteFile(filepath.Join(dir, what+"-"+strconv.Itoa(os.Getpid())), nil, 0o600)
}

// marked lists the pids that left the marker what in dir.
func marked(t *testing.T, dir, what string) []int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		if s, ok := strings.CutPrefix(e.Name(), what+"-"); ok {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("marker %s: %v", e.Name(), err)
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// without is env without the variable key.
func without(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// waitReady starts cmd and waits for its "ready" line on stdout.
func waitReady(cmd *exec.Cmd) error {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		log := ""
		if f, ok := cmd.Stderr.(*os.File); ok && f != os.Stderr {
			b, _ := os.ReadFile(f.Name())
			log = "; its log:\n" + string(b)
		}
		return fmt.Errorf("it said %q before it ended (%v)%s", line, err, log)
	}
	return nil
}

// resolve gives the folders of the state in dir, as --data-dir dir does.
func resolve(dir string) (paths.Dirs, error) {
	return paths.Resolve(paths.Options{DataDir: dir, Getenv: func(string) string { return "" }})
}

// shortDir is a temporary data dir with a path short enough for its sockets.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ao")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// child starts the test binary in role for dir. Its stderr goes to the
// file it returns. The test ends it if it is still running then.
func child(t *testing.T, role, dir string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), role+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	cmd := exec.Command(os.Args[0])
	// Without a session bus no keychain is probed: the person's stays untouched.
	cmd.Env = append(without(os.Environ(), "DBUS_SESSION_BUS_ADDRESS"), append(env, roleEnv+"="+role, dirEnv+"="+dir)...)
	cmd.Stderr = logFile
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, logPath
}

// startServe runs `tapedeck serve` for dir in another process and waits
// until it serves MCP on the socket.
func startServe(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd, logPath := child(t, roleServe, dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dirs, err := resolve(dir)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "`tapedeck serve` to answer on its socket", func() bool {
		cs, err := connect(t.Context(), paths.SocketPath(dirs), "probe")
		if err != nil {
			return false
		}
		cs.Close()
		return true
	})
	return cmd, logPath
}

// connect opens an MCP session on the unix socket as the client name.
func connect(ctx context.Context, socket, name string) (*mcp.ClientSession, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return cs, nil
}

// waitFor polls cond until it holds; it fails the test when the test's
// deadline comes first. The wait bounds nothing the test checks.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-5 * time.Second)
	}
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logSays waits until the log at path contains s.
func logSays(t *testing.T, path, s string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%q in %s", s, path), func() bool {
		b, err := os.ReadFile(path)
		return err == nil && strings.Contains(string(b), s)
	})
}

// ownerPID is the pid recorded in dir's owner lock, 0 for none.
func ownerPID(t *testing.T, dir string) int {
	t.Helper()
	o, ok, err := ownerlock.ReadOwner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0
	}
	return o.PID
}

// leftGoroutines lists the goroutines still running code of this package's
// production side, of the take-over request or of the socket servers.
func leftGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, fn := range []string{"appowner.takeOver", "appowner.Start", "appowner.(*App)", "mcpbridge.TakeOver", "mcpbridge.(*Server).ServeSocket", "control.Serve"} {
			if strings.Contains(g, fn) {
				left = append(left, g)
				break
			}
		}
	}
	return left
}

// killMarked ends the holders that started but did not release, after a
// failed test.
func killMarked(t *testing.T, dir string) {
	released := map[int]bool{}
	for _, pid := range append(marked(t, dir, "released"), marked(t, dir, "passed")...) {
		released[pid] = true
	}
	for _, pid := range marked(t, dir, "holder") {
		if !released[pid] && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
