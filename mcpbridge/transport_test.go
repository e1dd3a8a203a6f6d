package mcpbridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

// The test binary re-executes itself in these roles (TAPEDECK_TEST_ROLE).
const (
	roleEnv          = "TAPEDECK_TEST_ROLE"
	roleStdioServer  = "stdio-server"  // serve one session on stdin/stdout
	roleOwner        = "owner"         // own TAPEDECK_TEST_DIR and serve its socket
	roleSocketClient = "socket-client" // try a session on TAPEDECK_TEST_SOCKET
	roleTaker        = "taker"         // take TAPEDECK_TEST_DIR over as the app does (runTaker)
	dirEnv           = "TAPEDECK_TEST_DIR"
	socketEnv        = "TAPEDECK_TEST_SOCKET"
	// exitRefused is the socket client's exit status when the server
	// refused it.
	exitRefused = 3
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case roleStdioServer:
		fb := newFakeBackend()
		fb.addComponent(echoComponent("echo"))
		srv := New(fb, Options{})
		if err := srv.RunStdio(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case roleOwner:
		os.Exit(runOwner(os.Getenv(dirEnv)))
	case roleSocketClient:
		os.Exit(runSocketClient(os.Getenv(socketEnv)))
	case roleTaker:
		os.Exit(runTaker(os.Getenv(dirEnv)))
	}
	os.Exit(m.Run())
}

// runOwner is a headless owner as `tapedeck serve --owner-only` is: take
// the data dir's lock or leave at once, then serve its socket until
// SIGTERM or the test process that started it is gone.
func runOwner(dir string) int {
	lock, err := ownerlock.Acquire(dir)
	if errors.Is(err, ownerlock.ErrHeld) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer lock.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	parent := os.Getppid()
	go func() { // a safety net so a failed test leaves no process behind
		for os.Getppid() == parent {
			time.Sleep(100 * time.Millisecond)
		}
		stop()
	}()
	ln, err := ListenSocket(testSocket(dir), lock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Mark that this process became the owner, for the test to count.
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("served-%d", os.Getpid())), nil, 0o600); err != nil {
		return 1
	}
	srv := New(newFakeBackend(), Options{})
	defer srv.Close()
	if err := srv.ServeSocket(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runSocketClient tries one MCP session on socket.
func runSocketClient(socket string) int {
	conn, err := localsock.Dial(context.Background(), socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return exitRefused
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "intruder", Version: "0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		return exitRefused
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		fmt.Fprintln(os.Stderr, "list:", err)
		return exitRefused
	}
	return 0
}

// socketSession connects a go-sdk client to the unix socket at path.
func socketSession(t testing.TB, path string) *mcp.ClientSession {
	t.Helper()
	conn, err := localsock.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "socket-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// serveSocket runs srv on a socket in a fresh folder and returns its path.
func serveSocket(t testing.TB, srv *Server) string {
	t.Helper()
	dir := shortTempDir(t)
	lock, err := ownerlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	path := testSocket(dir)
	ln, err := ListenSocket(path, lock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeSocket(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeSocket: %v", err)
		}
	})
	return path
}

// serveEcho serves a fake backend offering the echo component on a socket,
// and returns the backend, the server and the socket's path.
func serveEcho(t testing.TB) (*fakeBackend, *Server, string) {
	t.Helper()
	fb := newFakeBackend()
	fb.addComponent(echoComponent("echo"))
	srv := newServer(t, fb, Options{})
	return fb, srv, serveSocket(t, srv)
}

// shortTempDir is a temporary folder with a path short enough for a unix
// socket address (t.TempDir's can exceed 104 bytes with long test names).
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "td")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// callText calls a tool and returns its text.
func callText(t testing.TB, cs *mcp.ClientSession, name string, args any) string {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("calling %s: %v", name, err)
	}
	return text(t, res)
}

func TestStdioSubprocess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+roleStdioServer)
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if got := callText(t, cs, "echo", map[string]any{"message": "over stdio"}); got != "over stdio" {
		t.Errorf("echo = %q", got)
	}
}

func TestSocket(t *testing.T) {
	fb, _, path := serveEcho(t)

	// A unix socket is 0600; a Windows pipe has a DACL instead, which
	// winpipe's tests read back.
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("socket mode %04o, want 0600", perm)
		}
	}
	a, b := socketSession(t, path), socketSession(t, path)
	if got := callText(t, a, "echo", map[string]any{"message": "a"}); got != "a" {
		t.Errorf("client a: echo = %q", got)
	}
	if got := callText(t, b, "echo", map[string]any{"message": "b"}); got != "b" {
		t.Errorf("client b: echo = %q", got)
	}
	c := fb.lastCall().Client
	if c.Transport != "socket" || c.PID != os.Getpid() || c.UID != os.Getuid() || c.Name != "socket-test" {
		t.Errorf("backend saw client %+v, want this process over the socket", c)
	}
}

func TestSocketRefusesOtherUser(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs a client as another uid with setpriv, a unix tool; a second Windows account is needed for the pipe's equivalent")
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user (CI runs as root)")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux) is missing; scripts/install-deps.sh installs it")
	}
	var log syncBuffer
	srv := newServer(t, newFakeBackend(), Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	path := serveSocket(t, srv)
	// Open the folder and the socket to everyone, so that only the peer
	// check stands between the other user and the server.
	for _, p := range []string{filepath.Dir(path), path} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	// The test binary must be readable by nobody: copy it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	binDir := shortTempDir(t)
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "client")
	copyFile(t, exe, bin, 0o755)

	run := func(asNobody bool) (int, string) {
		args := []string{bin}
		name := bin
		if asNobody {
			name = setpriv
			args = []string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}
		}
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), roleEnv+"="+roleSocketClient, socketEnv+"="+path)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("running the client: %v: %s", err, out)
		}
		return 0, string(out)
	}
	if code, out := run(false); code != 0 {
		t.Fatalf("the same user was refused (exit %d): %s", code, out)
	}
	code, out := run(true)
	if code != exitRefused || !strings.Contains(out, "connect:") {
		t.Errorf("nobody: exit %d, want %d, refused after connecting: %s", code, exitRefused, out)
	}
	if !strings.Contains(log.String(), "socket connection refused") || !strings.Contains(log.String(), "is not this server's user") {
		t.Errorf("the refusal was not logged: %s", log.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func copyFile(t testing.TB, from, to string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, perm); err != nil {
		t.Fatal(err)
	}
}

func TestCrashedClientMidCall(t *testing.T) {
	fb, _, path := serveEcho(t)

	conn, err := localsock.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// A raw client starts a call and dies without a word.
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"doomed","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"block","arguments":{}}}`,
	} {
		if _, err := io.WriteString(conn, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, fb.blockStarted, "the doomed call to start")
	conn.Close()

	other := socketSession(t, path)
	if got := callText(t, other, "echo", map[string]any{"message": "still here"}); got != "still here" {
		t.Errorf("another client after a crash: echo = %q", got)
	}
	if err := wait(t, fb.blockEnded, "the crashed client's call to be cancelled"); !errors.Is(err, context.Canceled) {
		t.Errorf("the crashed client's call ended with %v, want context.Canceled", err)
	}
}

func TestConcurrentClients(t *testing.T) {
	_, _, path := serveEcho(t)
	const clients, calls = 4, 250
	var wg sync.WaitGroup
	errs := make(chan error, clients*calls)
	for c := range clients {
		cs := socketSession(t, path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				msg := fmt.Sprintf("%d-%d", c, i)
				res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
				if err != nil {
					errs <- err
					continue
				}
				if got := res.Content[0].(*mcp.TextContent).Text; got != msg {
					errs <- fmt.Errorf("echo %s = %s", msg, got)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkSocketCall is a tools/call round trip over the local socket to
// a native Go tool (the fake backend's echo): the baseline the issue's
// component-call targets compare against.
func BenchmarkSocketCall(b *testing.B) {
	fb := newFakeBackend()
	fb.addComponent(echoComponent("echo"))
	srv := newServer(b, fb, Options{})
	cs := socketSession(b, serveSocket(b, srv))
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}}
	for b.Loop() {
		if _, err := cs.CallTool(b.Context(), params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSocketCall4Clients makes 1,000 calls from 4 clients at once per
// iteration, failing on any error.
func BenchmarkSocketCall4Clients(b *testing.B) {
	fb := newFakeBackend()
	fb.addComponent(echoComponent("echo"))
	srv := newServer(b, fb, Options{})
	path := serveSocket(b, srv)
	sessions := make([]*mcp.ClientSession, 4)
	for i := range sessions {
		sessions[i] = socketSession(b, path)
	}
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}}
	for b.Loop() {
		var wg sync.WaitGroup
		var failed sync.Once
		for _, cs := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 250 {
					if _, err := cs.CallTool(b.Context(), params); err != nil {
						failed.Do(func() { b.Error(err) })
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

// ownersIn returns the pids that served dir (the served-PID marks).
func ownersIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		if pid, ok := strings.CutPrefix(e.Name(), "served-"); ok {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// stopOwner ends the owner recorded in dir.
func stopOwner(t *testing.T, dir string) {
	owner, ok, err := ownerlock.ReadOwner(dir)
	if err != nil || !ok {
		return
	}
	if p, err := os.FindProcess(owner.PID); err == nil {
		stopProcess(p)
	}
}

// BenchmarkSocketCallComponent is a tools/call round trip over the local
// socket to a component tool served by a real sandbox.Host with an activity
// log, as `tapedeck serve` runs it: back-to-back calls from one client, the
// case the native baseline is compared with.
func BenchmarkSocketCallComponent(b *testing.B) {
	ctx := context.Background()
	act, err := activity.Open(activity.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { act.Close() })
	host, err := sandbox.New(ctx, sandbox.Options{Dir: b.TempDir(), CacheDir: testcomponents.CacheDir(b), Activity: act})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { host.Close(ctx) })
	for _, c := range []string{"c-tool", "rust-tool"} {
		if _, err := host.Load(ctx, testcomponents.Path(b, c), sandbox.LoadOptions{Client: sandbox.Client{Transport: "cli"}}); err != nil {
			b.Fatal(err)
		}
	}
	srv := New(host, Options{})
	b.Cleanup(func() { srv.Close() })
	cs := socketSession(b, serveSocket(b, srv))
	for _, bc := range []struct {
		name string
		args map[string]any
	}{
		{"add", map[string]any{"a": 1, "b": 2}},
		{"fib", map[string]any{"n": 20}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			params := &mcp.CallToolParams{Name: bc.name, Arguments: bc.args}
			for b.Loop() {
				res, err := cs.CallTool(ctx, params)
				if err != nil || res.IsError {
					b.Fatalf("%s: %v %+v", bc.name, err, res)
				}
			}
		})
	}
}
