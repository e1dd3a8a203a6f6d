package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/wintest"
)

// serveHTTP runs srv's HTTP endpoint on a loopback port and returns its
// base URL ("http://127.0.0.1:PORT").
func serveHTTP(t *testing.T, srv *Server, opts HTTPOptions) string {
	t.Helper()
	ln, err := ListenHTTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeHTTP(ctx, ln, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connectHTTP connects client "http-test" 7 to the server at base with
// token "secret" on protocol version; the session closes when the test ends.
func connectHTTP(t *testing.T, base, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "7"}, opts)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint:   base + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{"secret", http.DefaultTransport}},
	}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	// The SDK's client quietly falls back to initialize when the server
	// does not offer the version asked for.
	if got := cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated protocol %s over HTTP, want %s", got, version)
	}
	return cs
}

func TestHTTPSessions(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.addComponent(echoComponent("echo"))
			srv := newServer(t, fb, Options{})
			base := serveHTTP(t, srv, HTTPOptions{Token: "secret"})
			cs := connectHTTP(t, base, p.version, nil)
			if got := callText(t, cs, "echo", map[string]any{"message": "over http"}); got != "over http" {
				t.Errorf("echo = %q", got)
			}
			if c := fb.lastCall().Client; c.Transport != "http" || c.Name != "http-test" || c.Version != "7" {
				t.Errorf("backend saw client %+v", c)
			}
		})
	}
}

func TestHTTPRefusals(t *testing.T) {
	srv := newServer(t, newFakeBackend(), Options{Version: "1.2.3"})
	base := serveHTTP(t, srv, HTTPOptions{Token: "secret"})
	port := base[strings.LastIndexByte(base, ':')+1:]
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"0"}}}`
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		host   string
		want   int
	}{
		{"good", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret"}, "", http.StatusOK},
		{"goodLocalhostName", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret"}, "localhost:" + port, http.StatusOK},
		{"noToken", "POST", "/mcp", nil, "", http.StatusUnauthorized},
		{"wrongToken", "POST", "/mcp", map[string]string{"Authorization": "Bearer nope"}, "", http.StatusUnauthorized},
		{"tokenNotBearer", "POST", "/mcp", map[string]string{"Authorization": "secret"}, "", http.StatusUnauthorized},
		{"foreignHost", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret"}, "evil.example:" + port, http.StatusForbidden},
		{"wrongPort", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret"}, "127.0.0.1:1", http.StatusForbidden},
		{"hostWithoutPort", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret"}, "localhost", http.StatusForbidden},
		{"foreignOrigin", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret", "Origin": "https://evil.example"}, "", http.StatusForbidden},
		{"localOrigin", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret", "Origin": "http://localhost:6274"}, "", http.StatusOK},
		{"nullOrigin", "POST", "/mcp", map[string]string{"Authorization": "Bearer secret", "Origin": "null"}, "", http.StatusForbidden},
		{"healthNoToken", "GET", "/health", nil, "", http.StatusOK},
		{"healthForeignHost", "GET", "/health", nil, "evil.example:" + port, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if tt.method == "POST" {
				body = strings.NewReader(initialize)
			} else {
				body = strings.NewReader("")
			}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.path == "/health" && tt.want == http.StatusOK {
				var health map[string]string
				if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
					t.Fatal(err)
				}
				if health["status"] != "ok" || health["version"] != "1.2.3" {
					t.Errorf("/health = %v", health)
				}
			}
		})
	}
}

func TestHTTPNoAuth(t *testing.T) {
	var log syncBuffer
	srv := newServer(t, newFakeBackend(), Options{Logger: newTextLogger(&log)})
	base := serveHTTP(t, srv, HTTPOptions{NoAuth: true})
	client := mcp.NewClient(&mcp.Implementation{Name: "x", Version: "0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp"}, nil)
	if err != nil {
		t.Fatalf("without a token on a NoAuth server: %v", err)
	}
	cs.Close()
	if !strings.Contains(log.String(), "every local user can call every tool") {
		t.Errorf("no warning logged: %s", log.String())
	}
}

func TestListenHTTPLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1:0", false},
		{"localhost:0", false},
		{"[::1]:0", false},
		{"0.0.0.0:0", true},
		{"[::]:0", true},
		{":0", true},
		{"192.168.1.10:0", true},
		{"example.com:80", true},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer(":", "_", "[", "", "]", "").Replace(tt.addr), func(t *testing.T) {
			ln, err := ListenHTTP(tt.addr)
			if ln != nil {
				ln.Close()
			}
			if tt.refused != errors.Is(err, ErrNotLoopback) {
				if !tt.refused && err != nil && strings.Contains(err.Error(), "::1") {
					t.Skip("this machine has no IPv6 loopback: " + err.Error())
				}
				t.Errorf("ListenHTTP(%q) = %v, want refused %v", tt.addr, err, tt.refused)
			}
		})
	}
}

func TestHTTPHandlerNeedsToken(t *testing.T) {
	srv := newServer(t, newFakeBackend(), Options{})
	if _, err := srv.HTTPHandler(80, HTTPOptions{}); err == nil {
		t.Error("an HTTP handler with neither a token nor NoAuth was made")
	}
}

func TestTokenFile(t *testing.T) {
	dir := filepath.Join(wintest.TempDir(t), "config")
	// File modes are unix's: on Windows os.Chmod sets only the read-only
	// bit, and the token is kept from other users by its folder's ACL
	// (%APPDATA% is the user's), which this test does not check.
	unix := runtime.GOOS != "windows"
	first, err := LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 64 {
		t.Errorf("token %q: want 64 hex digits", first)
	}
	path := filepath.Join(dir, TokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if unix && fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %04o, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreateToken(dir)
	if err != nil || again != first {
		t.Errorf("second load = %q, %v; want the same token", again, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateToken(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); unix && fi.Mode().Perm() != 0o600 {
		t.Errorf("a loosened token file stayed %04o", fi.Mode().Perm())
	}
	rotated, err := RotateToken(dir)
	if err != nil || rotated == first {
		t.Errorf("rotate = %q, %v; want a new token", rotated, err)
	}
	if now, _ := LoadOrCreateToken(dir); now != rotated {
		t.Errorf("after rotation the file holds %q, want %q", now, rotated)
	}
}

func TestLocalHostAndOrigin(t *testing.T) {
	hosts := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:8787", true}, {"localhost:8787", true}, {"[::1]:8787", true},
		{"127.0.0.1:8788", false}, {"127.0.0.2:8787", false}, {"tapedeck.local:8787", false}, {"", false},
	}
	for _, h := range hosts {
		if got := localHost(h.host, strconv.Itoa(8787)); got != h.ok {
			t.Errorf("localHost(%q) = %v, want %v", h.host, got, h.ok)
		}
	}
	origins := []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:3000", true}, {"https://127.0.0.1", true}, {"http://[::1]:9", true},
		{"http://localhost.evil.example", false}, {"file://", false}, {"null", false}, {"chrome-extension://abc", false},
	}
	for _, o := range origins {
		if got := localOrigin(o.origin); got != o.ok {
			t.Errorf("localOrigin(%q) = %v, want %v", o.origin, got, o.ok)
		}
	}
}

func newTextLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestHTTPElicitation: questions reach the client over HTTP on both
// protocol generations; on 2026-07-28 every retry arrives on a new
// session, so the call is found by its state and the client's identity.
func TestHTTPElicitation(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.addComponent(echoComponent("echo"))
			fb.prompter = ElicitationPrompter{}
			srv := newServer(t, fb, Options{})
			base := serveHTTP(t, srv, HTTPOptions{Token: "secret"})
			var asked atomic.Int32
			alternate := func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				n := asked.Add(1)
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"allow": n%2 == 1}}, nil
			}
			cs := connectHTTP(t, base, p.version, askingClient(p.version, alternate))
			if got := callText(t, cs, "ask", map[string]any{"times": 2}); got != "allow once,deny" || asked.Load() != 2 {
				t.Errorf("answers = %q after %d questions, want allow once,deny after 2", got, asked.Load())
			}
			if n := srv.parkedCount(); n != 0 {
				t.Errorf("%d calls parked after the call ended", n)
			}
		})
	}
}
