package mcpbridge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// TokenFile is the bearer token's file name in the config folder.
const TokenFile = "http-token"

// statelessProtocol is the first protocol version without sessions, which
// the HTTP endpoint serves statelessly.
const statelessProtocol = "2026-07-28"

// HTTPOptions configure the streamable HTTP endpoint.
type HTTPOptions struct {
	// Token is the bearer token every request but /health must carry.
	Token string
	// NoAuth serves without a token: every local user can then call every
	// tool. ServeHTTP logs a warning saying so.
	NoAuth bool
}

// ErrNotLoopback reports an HTTP address that is not on the loopback
// interface.
var ErrNotLoopback = errors.New("not a loopback address")

// ListenHTTP listens on addr ("127.0.0.1:8787", "[::1]:0", "localhost:8787"),
// which must be a loopback address: Tapedeck never serves other machines.
//
// # Errors
//
// ErrNotLoopback (wrapped) for any other address, such as 0.0.0.0 or a
// LAN address; errors from listening.
func ListenHTTP(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("HTTP address %q: %w; give HOST:PORT such as 127.0.0.1:8787", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("HTTP address %q: %w; Tapedeck serves only this machine: use 127.0.0.1:PORT or [::1]:PORT", addr, ErrNotLoopback)
		}
	}
	if host == "localhost" {
		// "localhost" could resolve anywhere; pin it.
		addr = net.JoinHostPort("127.0.0.1", addr[strings.LastIndexByte(addr, ':')+1:])
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

// HTTPHandler returns the streamable HTTP endpoint for a server listening
// on port: MCP at every path but /health, which reports
// {"status":"ok","version":…} without a token.
//
// Each request must name this server in its Host header (localhost,
// 127.0.0.1 or [::1] with the right port: a DNS-rebinding page names its
// own host) and come from no browser Origin or a localhost one (403
// otherwise), and carry "Authorization: Bearer <token>" unless
// opts.NoAuth (401 otherwise). Sessions of the 2026-07-28 stateless
// protocol and older session-based clients are served side by side.
func (s *Server) HTTPHandler(port int, opts HTTPOptions) (http.Handler, error) {
	if !opts.NoAuth && opts.Token == "" {
		return nil, errors.New("the HTTP endpoint needs a token (or NoAuth)")
	}
	server := func(*http.Request) *mcp.Server { return s.mcp }
	// The SDK's handler serves 2026-07-28 only when stateless, and the
	// session-based protocols only when stateful: one of each, chosen by
	// the version every 2026-07-28 request names in its header (older
	// clients send an older one, or none before initialize).
	sessions := mcp.NewStreamableHTTPHandler(server, &mcp.StreamableHTTPOptions{Logger: s.logger})
	stateless := mcp.NewStreamableHTTPHandler(server, &mcp.StreamableHTTPOptions{Logger: s.logger, Stateless: true})
	want := "Bearer " + opts.Token
	portText := strconv.Itoa(port)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !localHost(r.Host, portText) {
			http.Error(w, "Host header not allowed: address Tapedeck as localhost, 127.0.0.1 or [::1] with its port", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !localOrigin(origin) {
			http.Error(w, "cross-origin requests are not allowed", http.StatusForbidden)
			return
		}
		if r.URL.Path == "/health" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": s.opts.Version})
			return
		}
		if !opts.NoAuth && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tapedeck"`)
			http.Error(w, "missing or wrong bearer token: send Authorization: Bearer <token>, the token being the content of the file "+TokenFile+" in Tapedeck's config folder", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Mcp-Protocol-Version") >= statelessProtocol {
			stateless.ServeHTTP(w, r)
			return
		}
		sessions.ServeHTTP(w, r)
	}), nil
}

// ServeHTTP serves the streamable HTTP endpoint on ln (from ListenHTTP)
// until ctx is done, then shuts down, giving requests in flight a few
// seconds. It returns nil when ctx ended it.
func (s *Server) ServeHTTP(ctx context.Context, ln net.Listener, opts HTTPOptions) error {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("serving HTTP on a %s listener: need TCP", ln.Addr().Network())
	}
	h, err := s.HTTPHandler(addr.Port, opts)
	if err != nil {
		return err
	}
	if opts.NoAuth {
		s.logger.Warn("HTTP endpoint without a token: every local user can call every tool", "addr", addr.String())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	})
	defer stop()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	}
	return nil
}

// localHost reports whether a Host header names this machine's loopback
// at port.
func localHost(hostport, port string) bool {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil || p != port {
		return false
	}
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// localOrigin reports whether a browser Origin is a page served from this
// machine's loopback (any port: a local tool such as the MCP Inspector).
func localOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// LoadOrCreateToken returns the HTTP bearer token kept in configDir,
// creating one (32 random bytes, hex) on first use. The file is mode 0600.
func LoadOrCreateToken(configDir string) (string, error) {
	path := filepath.Join(configDir, TokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		token := strings.TrimSpace(string(b))
		if token != "" {
			// An older or hand-made file may be readable by others.
			if err := os.Chmod(path, 0o600); err != nil {
				return "", fmt.Errorf("restricting %s to its owner: %w", path, err)
			}
			return token, nil
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("reading the HTTP token: %w", err)
	}
	return RotateToken(configDir)
}

// RotateToken replaces the HTTP bearer token in configDir with a new one
// and returns it. Clients holding the old token are refused from then on.
func RotateToken(configDir string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("making an HTTP token: %w", err)
	}
	token := hex.EncodeToString(raw)
	path := filepath.Join(configDir, TokenFile)
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return "", fmt.Errorf("creating the config folder: %w", err)
	}
	if err := atomicfile.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("saving the HTTP token: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", fmt.Errorf("restricting %s to its owner: %w", path, err)
	}
	return token, nil
}
