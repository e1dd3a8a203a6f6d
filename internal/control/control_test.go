package control

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/internal/wintest"
	"tapedeck.dev/tapedeck/sandbox"
)

func TestSocketPath(t *testing.T) {
	tests := []struct{ mcp, want string }{
		{"/run/user/1000/tapedeck/mcp.sock", "/run/user/1000/tapedeck/mcp.ctl"},
		{"/tmp/tapedeck-1000/0123456789abcdef.sock", "/tmp/tapedeck-1000/0123456789abcdef.ctl"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.want), func(t *testing.T) {
			got := SocketPath(tt.mcp)
			if got != tt.want || len(got) > len(tt.mcp) {
				t.Errorf("SocketPath(%s) = %s, want %s (no longer than the MCP socket's)", tt.mcp, got, tt.want)
			}
		})
	}
}

// TestSocketPathPipe: on Windows the control pipe is named after the MCP
// pipe, so it is derived from the user and the data dir exactly as that
// one is: each data dir has its own.
func TestSocketPathPipe(t *testing.T) {
	pipe := func(data, user string) string {
		d, err := paths.Resolve(paths.Options{GOOS: "windows", DataDir: data, Getenv: func(k string) string {
			if k == "USERNAME" {
				return user
			}
			return ""
		}})
		if err != nil {
			t.Fatal(err)
		}
		return paths.SocketPath(d)
	}
	data := `C:\Users\Ann\td`
	sum := sha256.Sum256([]byte(data))
	want := `\\.\pipe\tapedeck-ann-` + hex.EncodeToString(sum[:8]) + ".ctl"
	if got := SocketPath(pipe(data, "Ann")); got != want {
		t.Errorf("control pipe = %s, want %s", got, want)
	}
	if a, b := SocketPath(pipe(data, "Ann")), SocketPath(pipe(data+"2", "Ann")); a == b {
		t.Errorf("two data dirs share the control pipe %s", a)
	}
}

// serve starts an owner of a fresh data dir serving its control socket
// until the test ends, and returns the socket's path.
func serve(t *testing.T) (string, *owner.Owner) {
	t.Helper()
	data, err := os.MkdirTemp("", "tdctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	dirs, err := paths.Resolve(paths.Options{DataDir: data, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := paths.Ensure(dirs); err != nil {
		t.Fatal(err)
	}
	lock, err := ownerlock.Acquire(dirs.Data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o, err := owner.Open(ctx, owner.Options{Dirs: dirs, SecretsFileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	path := SocketPath(paths.SocketPath(dirs))
	// On unix, a socket file left by a dead owner is replaced, and the new
	// one is 0600. (A Windows pipe vanishes with its process and has a
	// DACL instead: winpipe's tests check it.)
	unix := runtime.GOOS != "windows"
	if unix {
		stale, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		stale.(*net.UnixListener).SetUnlinkOnClose(false)
		stale.Close()
	}
	ln, err := Listen(path, lock)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); unix && (err != nil || fi.Mode().Perm() != 0o600) {
		t.Errorf("control socket mode: %v %v, want 0600", fi.Mode().Perm(), err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := Serve(ctx, ln, o); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		o.Close(context.Background())
		lock.Close()
	})
	return path, o
}

func TestRequests(t *testing.T) {
	path, o := serve(t)
	ctx := context.Background()
	c, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name string
		req  Request
		says string
	}{
		{name: "unknown_op", req: Request{Op: "reboot"}, says: "unknown control request"},
		{name: "grant_without_permission", req: Request{Op: OpGrant, Component: "calc"}, says: "needs a permission"},
		{name: "grant_unknown_component", req: Request{Op: OpGrant, Component: "nope", Permission: &sandbox.Permission{Kind: sandbox.PermissionNetwork, Host: "h.example"}}, says: "no such component"},
		{name: "secret_unknown_component", req: Request{Op: OpSecretSet, Component: "nope", Key: "K", Value: "value"}, says: "no such component"},
		{name: "disable_unknown_component", req: Request{Op: OpSetEnabled, Component: "nope"}, says: "no such component"},
		{name: "record_without_entry", req: Request{Op: OpRecord}, says: "needs an entry"},
		{name: "load_missing_file", req: Request{Op: OpLoadTrusted, URI: "/nonexistent/x.wasm"}, says: "x.wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Do(ctx, tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Do(%+v) = %v, want an error saying %q", tt.req, err, tt.says)
			}
		})
	}
	if keys, _ := o.Secrets.List("nope"); len(keys) != 0 {
		t.Errorf("a refused request left secrets: %v", keys)
	}
}

// TestBadLine: a line that is not a request is answered with an error and
// the connection goes on serving.
func TestBadLine(t *testing.T) {
	path, _ := serve(t)
	conn, err := localsock.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for _, line := range []string{"not json\n", `{"op":"record"}` + "\n"} {
		if _, err := conn.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		reply, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after %q: %v", line, err)
		}
		var resp Response
		if err := json.Unmarshal(reply, &resp); err != nil || resp.Error == "" {
			t.Errorf("reply to %q = %s, want an error response", line, reply)
		}
	}
}

// chanListener is a listener whose connections a test hands it.
type chanListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *chanListener) Addr() net.Addr { return &net.UnixAddr{Name: "test", Net: "unix"} }

// TestServeRefusesUnknownPeer: a connection whose peer cannot be known
// (here an in-memory pipe, which carries no credentials) is closed
// unanswered; only localsock's check of the peer lets a request through.
func TestServeRefusesUnknownPeer(t *testing.T) {
	ln := &chanListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	// No owner: a refused connection never reaches one, and an answered
	// unknown op would not need one either.
	go func() { served <- Serve(ctx, ln, nil) }()
	client, server := net.Pipe()
	defer client.Close()
	ln.conns <- server
	// Serve may close the pipe before or after reading the request.
	client.Write([]byte(`{"op":"reboot"}` + "\n"))
	if reply, err := bufio.NewReader(client).ReadString('\n'); err != io.EOF || reply != "" {
		t.Errorf("an unknown peer got %q, %v; want the connection closed unanswered", reply, err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after its context ended", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	dir := wintest.TempDir(t)
	path := filepath.Join(dir, "x.ctl")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	lock, err := ownerlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := Listen(path, lock); err == nil {
		t.Fatal("Listen replaced a file that is not a socket")
	}
	if data, _ := os.ReadFile(path); string(data) != "precious" {
		t.Error("the file was changed")
	}
	if _, err := Listen(filepath.Join(dir, "y.ctl"), nil); err == nil {
		t.Error("Listen without ownership succeeded")
	}
}
