package cli

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/sandbox"
)

// emptyBackend is a sandbox with no components, enough to serve the
// built-in tools; mcpbridge's own tests cover a fuller fake.
type emptyBackend struct{}

func (emptyBackend) Tools() []sandbox.ToolInfo { return nil }
func (emptyBackend) Call(context.Context, sandbox.CallRequest) (*sandbox.CallResult, error) {
	return nil, sandbox.ErrNoComponent
}
func (emptyBackend) Load(context.Context, string, sandbox.LoadOptions) (*sandbox.LoadResult, error) {
	return nil, os.ErrNotExist
}
func (emptyBackend) Unload(context.Context, string, sandbox.Client) error {
	return sandbox.ErrNoComponent
}
func (emptyBackend) List() []sandbox.ComponentInfo              { return nil }
func (emptyBackend) Policy(string) (*sandbox.PolicyInfo, error) { return nil, sandbox.ErrNoComponent }
func (emptyBackend) Grant(context.Context, string, sandbox.Permission, sandbox.Client) error {
	return sandbox.ErrNoComponent
}
func (emptyBackend) Revoke(context.Context, string, sandbox.Permission, sandbox.Client) error {
	return sandbox.ErrNoComponent
}
func (emptyBackend) Reset(context.Context, string, sandbox.Client) error {
	return sandbox.ErrNoComponent
}
func (emptyBackend) Subscribe(ctx context.Context) <-chan sandbox.Event {
	ch := make(chan sandbox.Event)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}

// withBackend sets newBackend for one test.
func withBackend(t *testing.T, f func(context.Context, *Env, serveOptions) (*backendSetup, error)) {
	old := newBackend
	newBackend = f
	t.Cleanup(func() { newBackend = old })
}

// shortDataDir is a data dir whose socket path fits a unix address.
func shortDataDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "tdcli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func runCLI(ctx context.Context, dataDir string, stdin io.Reader, stdout io.Writer, args ...string) (string, int) {
	var errOut bytes.Buffer
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code := Run(ctx, env, append([]string{"--data-dir", dataDir}, args...))
	return errOut.String(), code
}

func TestServeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"noAuthWithoutHTTP", []string{"serve", "--http-no-auth"}},
		{"stdioAndOwnerOnly", []string{"serve", "--stdio", "--owner-only"}},
		{"positional", []string{"serve", "extra"}},
		{"badEnv", []string{"serve", "--env", "NOEQUALS"}},
		{"mcpArgs", []string{"mcp", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr, code := runCLI(t.Context(), shortDataDir(t), strings.NewReader(""), io.Discard, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, ExitUsage, stderr)
			}
		})
	}
}

func TestServeOwnedElsewhere(t *testing.T) {
	withBackend(t, func(context.Context, *Env, serveOptions) (*backendSetup, error) {
		return &backendSetup{Backend: emptyBackend{}}, nil
	})
	dir := shortDataDir(t)
	lock, err := ownerlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	t.Run("ownerOnlyLeavesQuietly", func(t *testing.T) {
		if stderr, code := runCLI(t.Context(), dir, strings.NewReader(""), io.Discard, "serve", "--owner-only"); code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
	t.Run("plainServeRefuses", func(t *testing.T) {
		stderr, code := runCLI(t.Context(), dir, strings.NewReader(""), io.Discard, "serve")
		if code != ExitFailure || !strings.Contains(stderr, "owned by another process") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestServeStdio(t *testing.T) {
	var got serveOptions
	withBackend(t, func(_ context.Context, _ *Env, opts serveOptions) (*backendSetup, error) {
		got = opts
		return &backendSetup{Backend: emptyBackend{}}, nil
	})
	dir := shortDataDir(t)
	envFile := filepath.Join(dir, "vars.env")
	if err := os.WriteFile(envFile, []byte("# keys\nexport API_KEY=\"from file\"\nOTHER=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		_, code := runCLI(context.Background(), dir, inR, outW, "serve", "--stdio", "--env-file", envFile, "--env", "OTHER=2", "--allow-agent-grants")
		outW.Close()
		done <- code
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Tools, func(tool *mcp.Tool) bool { return tool.Name == "load-component" }) {
		t.Errorf("serve --stdio lists %d tools without load-component", len(res.Tools))
	}
	cs.Close()
	if code := <-done; code != ExitOK {
		t.Errorf("serve --stdio exited %d after the session ended", code)
	}
	if got.Env["API_KEY"] != "from file" || got.Env["OTHER"] != "2" || !got.AllowAgentGrants {
		t.Errorf("backend options = %+v", got)
	}
}

func TestEnvValues(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		pairs   []string
		file    string
		want    map[string]string
		wantErr bool
	}{
		{"pairs", []string{"A=1", "B=x=y"}, "", map[string]string{"A": "1", "B": "x=y"}, false},
		{"file", nil, write("a.env", "A=1\n\n# c\nexport B='two'\n"), map[string]string{"A": "1", "B": "two"}, false},
		{"flagWins", []string{"A=flag"}, write("b.env", "A=file\n"), map[string]string{"A": "flag"}, false},
		{"badPair", []string{"=1"}, "", nil, true},
		{"badLine", nil, write("c.env", "JUSTAWORD\n"), nil, true},
		{"noFile", nil, filepath.Join(dir, "missing.env"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := envValues(tt.pairs, tt.file)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestServeRecordsTheTaker: asked to hand over, serve names the asking
// process in the lock file before it lets go, so that relays wait for that
// process instead of starting another owner.
func TestServeRecordsTheTaker(t *testing.T) {
	withBackend(t, func(context.Context, *Env, serveOptions) (*backendSetup, error) {
		return &backendSetup{Backend: emptyBackend{}}, nil
	})
	dir := shortDataDir(t)
	done := make(chan int, 1)
	go func() {
		_, code := runCLI(context.Background(), dir, strings.NewReader(""), io.Discard, "serve")
		done <- code
	}()
	dirs, err := paths.Resolve(paths.Options{DataDir: dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	for {
		if conn, err = net.Dial("unix", paths.SocketPath(dirs)); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before it listened", code)
		case <-time.After(20 * time.Millisecond):
		}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "taker", Version: "1"}, nil)
	if err := mcp.AddSendingCustomMethod[*mcpbridge.HandoverParams, *mcpbridge.HandoverResult](client, mcpbridge.HandoverMethod); err != nil {
		t.Fatal(err)
	}
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const taker = 4242
	if _, err := mcp.CallCustomMethod[*mcpbridge.HandoverParams, *mcpbridge.HandoverResult](t.Context(), cs, mcpbridge.HandoverMethod, &mcpbridge.HandoverParams{By: "test", PID: taker}); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	if code := <-done; code != ExitOK {
		t.Errorf("serve exited %d after handing over", code)
	}
	o, owned, err := ownerlock.ReadOwner(dir)
	if err != nil || owned || o.Next.PID != taker {
		t.Errorf("lock file after the hand-over = %+v, owned %v, %v; want no owner and next pid %d", o, owned, err, taker)
	}
}
