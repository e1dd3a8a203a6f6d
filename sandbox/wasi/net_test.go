package wasi

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// These tests call the wasi:http and wasi:sockets host functions directly,
// as a guest would, under a checker built from a policy: what a toolchain's
// fetch cannot express (a forged Host header, another scheme, request
// options) and wasi:sockets, which no toolchain installed here can reach
// from a test component (wasi-libc's and Rust's socket support need a
// wasip2 toolchain that is not in Debian 12).

// netPolicyChecker decides by a policy alone (no person to ask: silence is
// deny), like sandbox.Gate headless.
type netPolicyChecker struct{ p *policy.Policy }

func (c netPolicyChecker) Check(_ context.Context, a policy.Access) error {
	if d := c.p.Decide(a, policy.Protected{}); d.Verdict != policy.Allow {
		return &access.DeniedError{Access: a, Reason: d.String()}
	}
	return nil
}

func (c netPolicyChecker) CheckAddress(_ context.Context, scheme string, ip netip.Addr, port uint16) error {
	if d := c.p.DecideAddress(scheme, ip, port); d.Verdict != policy.Allow {
		return &access.DeniedError{Access: policy.Network{Scheme: scheme, Host: ip.String(), Port: port}, Reason: d.String()}
	}
	return nil
}

func mustPolicy(t *testing.T, format string, args ...any) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(fmt.Appendf(nil, format, args...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testResolver maps names to addresses and counts lookups.
type testResolver struct {
	addrs   map[string][]netip.Addr
	lookups atomic.Int32
}

func (r *testResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	if a, ok := r.addrs[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

const ht = "wasi:http/types@0.2"

// newRequest builds an outgoing-request as a guest would.
func newRequest(c *caller, method types.VariantValue, scheme types.VariantValue, authority, path string, headers ...[2]string) types.Handle {
	c.t.Helper()
	list := []any{}
	for _, h := range headers {
		list = append(list, []any{h[0], bytesValue([]byte(h[1]))})
	}
	hdrs := c.ok(c.call(ht, "[static]fields.from-list", list))
	req := c.call(ht, "[constructor]outgoing-request", hdrs).(types.Handle)
	c.ok(c.call(ht, "[method]outgoing-request.set-method", req, method))
	c.ok(c.call(ht, "[method]outgoing-request.set-scheme", req, someValue(scheme)))
	c.ok(c.call(ht, "[method]outgoing-request.set-authority", req, someValue(authority)))
	c.ok(c.call(ht, "[method]outgoing-request.set-path-with-query", req, someValue(path)))
	return req
}

var (
	methodGet  = types.VariantValue{Case: 0}
	methodPost = types.VariantValue{Case: 2}
	schemeHTTP = types.VariantValue{Case: 0}
)

// errorLabel names the case of an error-code value.
func (c *caller) errorLabel(v any) string {
	return c.h.valueType(httpTypes, "error-code").Cases[v.(types.VariantValue).Case].Name
}

// handle sends req and returns the future, or the error-code's label.
func (c *caller) handle(req types.Handle, opts ...types.Handle) (types.Handle, string) {
	c.t.Helper()
	o := noneValue
	if len(opts) > 0 {
		o = someValue(opts[0])
	}
	res := c.call("wasi:http/outgoing-handler@0.2", "handle", req, o).(types.VariantValue)
	if res.Case == 1 {
		return types.Handle{}, c.errorLabel(res.Value)
	}
	return res.Value.(types.Handle), ""
}

// await waits for a future-incoming-response and returns the response or
// the error-code's label.
func (c *caller) await(future types.Handle) (types.Handle, string) {
	c.t.Helper()
	p := c.call(ht, "[method]future-incoming-response.subscribe", future)
	c.call("wasi:io/poll@0.2", "poll", []any{p})
	drop(p)
	got := c.call(ht, "[method]future-incoming-response.get", future).(types.VariantValue)
	if got.Case != 1 {
		c.t.Fatalf("future not ready after poll said so: %#v", got)
	}
	inner := c.ok(got.Value).(types.VariantValue)
	if inner.Case == 1 {
		return types.Handle{}, c.errorLabel(inner.Value)
	}
	return inner.Value.(types.Handle), ""
}

// readBody reads a response's body to its end.
func (c *caller) readBody(resp types.Handle) (string, types.VariantValue) {
	c.t.Helper()
	body := c.ok(c.call(ht, "[method]incoming-response.consume", resp))
	stream := c.ok(c.call(ht, "[method]incoming-body.stream", body))
	var out []byte
	for {
		r := c.call("wasi:io/streams@0.2", "[method]input-stream.blocking-read", stream, uint64(4096)).(types.VariantValue)
		if r.Case == 1 {
			drop(stream)
			drop(body)
			return string(out), r.Value.(types.VariantValue)
		}
		p, _ := bytesArg(r.Value, "test")
		out = append(out, p...)
	}
}

func TestHTTPHandleRefusals(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	authority := fmt.Sprintf("127.0.0.1:%d", port)
	resolver := &testResolver{addrs: map[string][]netip.Addr{"other.test": {netip.MustParseAddr("127.0.0.1")}}}
	pol := mustPolicy(t, "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"http://127.0.0.1:%d\"\n", port)

	tests := []struct {
		name      string
		scheme    types.VariantValue
		authority string
		headers   [][2]string
		checker   bool
		want      string
	}{
		{"forged-host", schemeHTTP, authority, [][2]string{{"Host", "other.test"}}, true, "HTTP-request-denied"},
		{"forged-host-port", schemeHTTP, authority, [][2]string{{"host", fmt.Sprintf("127.0.0.1:%d", port+1)}}, true, "HTTP-request-denied"},
		{"second-host-header", schemeHTTP, authority, [][2]string{{"Host", authority}, {"Host", "other.test"}}, true, "HTTP-request-denied"},
		{"other-scheme", types.VariantValue{Case: 2, Value: "ftp"}, authority, nil, true, "HTTP-request-denied"},
		{"https-not-allowed", types.VariantValue{Case: 1}, authority, nil, true, "HTTP-request-denied"},
		{"name-not-allowed", schemeHTTP, fmt.Sprintf("other.test:%d", port), nil, true, "HTTP-request-denied"},
		{"userinfo", schemeHTTP, "x@" + authority, nil, true, "HTTP-request-URI-invalid"},
		{"numeric-host", schemeHTTP, fmt.Sprintf("2130706433:%d", port), nil, true, "HTTP-request-URI-invalid"},
		{"no-checker", schemeHTTP, authority, nil, false, "HTTP-request-denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCaller(t, New(Config{Resolver: resolver}))
			if tt.checker {
				c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
			}
			req := newRequest(c, methodGet, tt.scheme, tt.authority, "/", tt.headers...)
			if _, got := c.handle(req); got != tt.want {
				t.Errorf("handle = %q, want %q", got, tt.want)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was reached %d times by refused requests", n)
	}
	if n := resolver.lookups.Load(); n != 0 {
		t.Errorf("%d names were resolved for refused requests", n)
	}
}

func TestHTTPRoundTrip(t *testing.T) {
	var mu sync.Mutex
	var seenHost, seenBody, seenHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seenHost, seenBody, seenHeader = r.Host, string(b), r.Header.Get("X-Trace")
		mu.Unlock()
		w.Header().Set("X-Reply", "yes")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "got %s %s", r.Method, r.URL.RequestURI())
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	authority := fmt.Sprintf("127.0.0.1:%d", port)
	pol := mustPolicy(t, "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"http://127.0.0.1:%d\"\n", port)
	c := newCaller(t, New(Config{}))
	c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})

	req := newRequest(c, methodPost, schemeHTTP, authority, "/items?q=1", [2]string{"Host", authority}, [2]string{"X-Trace", "7"})
	body := c.ok(c.call(ht, "[method]outgoing-request.body", req))
	stream := c.ok(c.call(ht, "[method]outgoing-body.write", body))
	c.ok(writeAll(c, stream, `{"name":"x"}`))
	drop(stream)
	future, code := c.handle(req) // sent once the body is finished
	if code != "" {
		t.Fatalf("handle = %s", code)
	}
	c.ok(c.call(ht, "[static]outgoing-body.finish", body, noneValue))
	resp, code := c.await(future)
	if code != "" {
		t.Fatalf("response = %s", code)
	}
	if s := c.call(ht, "[method]incoming-response.status", resp); s != uint16(201) {
		t.Errorf("status = %v, want 201", s)
	}
	hdrs := c.call(ht, "[method]incoming-response.headers", resp)
	if v := c.call(ht, "[method]fields.get", hdrs, "x-reply").([]any); len(v) != 1 {
		t.Errorf("x-reply header = %v", v)
	}
	drop(hdrs)
	text, end := c.readBody(resp)
	if text != "got POST /items?q=1" || end.Case != 1 {
		t.Errorf("body = %q ending %#v, want the echo and closed", text, end)
	}
	mu.Lock()
	defer mu.Unlock()
	if seenHost != authority || seenBody != `{"name":"x"}` || seenHeader != "7" {
		t.Errorf("server saw Host %q, body %q, X-Trace %q", seenHost, seenBody, seenHeader)
	}
	drop(resp)
	drop(future)
}

func TestHTTPTimeoutsAndLimits(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	authority := fmt.Sprintf("127.0.0.1:%d", port)
	pol := mustPolicy(t, "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"http://127.0.0.1:%d\"\n", port)

	// The host's own timeouts are an hour: only an honoured request option
	// ends these waits (an ignored one makes the test run into go test's timeout).
	patient := Limits{FirstByteTimeout: time.Hour, BetweenBytesTimeout: time.Hour}
	t.Run("first-byte-timeout-option", func(t *testing.T) {
		c := newCaller(t, New(Config{Limits: patient}))
		c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
		opts := c.call(ht, "[constructor]request-options").(types.Handle)
		c.ok(c.call(ht, "[method]request-options.set-first-byte-timeout", opts, someValue(uint64(100*time.Millisecond))))
		future, code := c.handle(newRequest(c, methodGet, schemeHTTP, authority, "/stall"), opts)
		if code != "" {
			t.Fatalf("handle = %s", code)
		}
		if _, code := c.await(future); code != "HTTP-response-timeout" {
			t.Errorf("response of a server that never answers = %q, want HTTP-response-timeout", code)
		}
	})
	t.Run("between-bytes-timeout-option", func(t *testing.T) {
		trickle := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "start")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer trickle.Close()
		tport := trickle.Listener.Addr().(*net.TCPAddr).Port
		tpol := mustPolicy(t, "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"http://127.0.0.1:%d\"\n", tport)
		c := newCaller(t, New(Config{Limits: patient}))
		c.ctx = access.WithChecker(c.ctx, netPolicyChecker{tpol})
		opts := c.call(ht, "[constructor]request-options").(types.Handle)
		c.ok(c.call(ht, "[method]request-options.set-between-bytes-timeout", opts, someValue(uint64(100*time.Millisecond))))
		future, code := c.handle(newRequest(c, methodGet, schemeHTTP, fmt.Sprintf("127.0.0.1:%d", tport), "/"), opts)
		if code != "" {
			t.Fatalf("handle = %s", code)
		}
		resp, code := c.await(future)
		if code != "" {
			t.Fatalf("response = %s", code)
		}
		text, end := c.readBody(resp)
		if text != "start" || end.Case != 0 {
			t.Fatalf("body = %q ending %#v, want the first bytes and then last-operation-failed", text, end)
		}
		got := c.call(ht, "http-error-code", end.Value).(types.VariantValue)
		if got.Case != 1 || c.errorLabel(got.Value) != "connection-read-timeout" {
			t.Errorf("http-error-code of the stream's error = %#v, want some(connection-read-timeout)", got)
		}
	})
	t.Run("connection-limit", func(t *testing.T) {
		c := newCaller(t, New(Config{Limits: Limits{MaxConnections: 1}}))
		c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
		if _, code := c.handle(newRequest(c, methodGet, schemeHTTP, authority, "/stall")); code != "" {
			t.Fatalf("first handle = %s", code)
		}
		if _, code := c.handle(newRequest(c, methodGet, schemeHTTP, authority, "/stall")); code != "connection-limit-reached" {
			t.Errorf("second handle with MaxConnections 1 = %q, want connection-limit-reached", code)
		}
	})
}

// tcpListener accepts on 127.0.0.1, echoing, and counts connections.
type tcpListener struct {
	net.Listener
	accepts atomic.Int32
	wg      sync.WaitGroup
}

func newTCPListener(t *testing.T) *tcpListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &tcpListener{Listener: ln}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepts.Add(1)
			go func() {
				defer conn.Close()
				_, _ = io.Copy(conn, conn)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); l.wg.Wait() })
	return l
}

func (l *tcpListener) port() uint16 { return uint16(l.Addr().(*net.TCPAddr).Port) }

const (
	sockTCPIface    = "wasi:sockets/tcp@0.2"
	sockLookupIface = "wasi:sockets/ip-name-lookup@0.2"
)

func (c *caller) socketErrorLabel(v any) string {
	return c.h.valueType(sockNetwork, "error-code").Labels[v.(types.VariantValue).Case]
}

// resolve runs resolve-addresses to its end: the addresses, or the error label.
func (c *caller) resolve(name string) ([]netip.Addr, string) {
	c.t.Helper()
	network := c.call("wasi:sockets/instance-network@0.2", "instance-network")
	defer drop(network)
	r := c.call(sockLookupIface, "resolve-addresses", network, name).(types.VariantValue)
	if r.Case == 1 {
		return nil, c.socketErrorLabel(r.Value)
	}
	stream := r.Value.(types.Handle)
	defer drop(stream)
	p := c.call(sockLookupIface, "[method]resolve-address-stream.subscribe", stream)
	c.call("wasi:io/poll@0.2", "poll", []any{p})
	drop(p)
	var out []netip.Addr
	for {
		r := c.call(sockLookupIface, "[method]resolve-address-stream.resolve-next-address", stream).(types.VariantValue)
		if r.Case == 1 {
			return out, c.socketErrorLabel(r.Value)
		}
		opt := r.Value.(types.VariantValue)
		if opt.Case == 0 {
			return out, ""
		}
		v := opt.Value.(types.VariantValue)
		if v.Case == 0 {
			b := v.Value.([]any)
			out = append(out, netip.AddrFrom4([4]byte{b[0].(uint8), b[1].(uint8), b[2].(uint8), b[3].(uint8)}))
		}
	}
}

// connect runs a TCP connect to ap and returns the socket and its
// streams, or the error label (of start-connect or finish-connect).
func (c *caller) connect(ap netip.AddrPort) (sock, in, out types.Handle, label string) {
	c.t.Helper()
	network := c.call("wasi:sockets/instance-network@0.2", "instance-network")
	defer drop(network)
	r := c.call("wasi:sockets/tcp-create-socket@0.2", "create-tcp-socket", types.VariantValue{Case: 0}).(types.VariantValue)
	if r.Case == 1 {
		return sock, in, out, c.socketErrorLabel(r.Value)
	}
	sock = r.Value.(types.Handle)
	b := ap.Addr().As4()
	addr := types.VariantValue{Case: 0, Value: []any{ap.Port(), []any{b[0], b[1], b[2], b[3]}}}
	if r := c.call(sockTCPIface, "[method]tcp-socket.start-connect", sock, network, addr).(types.VariantValue); r.Case == 1 {
		return sock, in, out, c.socketErrorLabel(r.Value)
	}
	p := c.call(sockTCPIface, "[method]tcp-socket.subscribe", sock)
	c.call("wasi:io/poll@0.2", "poll", []any{p})
	drop(p)
	r = c.call(sockTCPIface, "[method]tcp-socket.finish-connect", sock).(types.VariantValue)
	if r.Case == 1 {
		return sock, in, out, c.socketErrorLabel(r.Value)
	}
	pair := r.Value.([]any)
	return sock, pair[0].(types.Handle), pair[1].(types.Handle), ""
}

func TestSocketsUnderPolicy(t *testing.T) {
	allowed, refused := newTCPListener(t), newTCPListener(t)
	ap, rp := allowed.port(), refused.port()
	loopback := netip.MustParseAddr("127.0.0.1")
	resolver := &testResolver{addrs: map[string][]netip.Addr{
		"db.test":     {loopback},
		"rebind.test": {loopback},
		"other.test":  {loopback},
	}}
	// A tcp rule for the allowed listener, by address and by name; a
	// name-only rule for rebind.test (its address is not named); and an
	// http rule for the refused listener, which must not open a socket.
	pol := mustPolicy(t, `version: "1.0"
permissions:
  network:
    allow:
      - host: "tcp://127.0.0.1:%[1]d"
      - host: "tcp://db.test:%[1]d"
      - host: "tcp://rebind.test:%[2]d"
      - host: "http://127.0.0.1:%[2]d"
`, ap, rp)
	newSockCaller := func(t *testing.T) *caller {
		c := newCaller(t, New(Config{Resolver: resolver}))
		c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
		return c
	}

	t.Run("connect-and-echo", func(t *testing.T) {
		c := newSockCaller(t)
		addrs, label := c.resolve("db.test")
		if label != "" || len(addrs) != 1 || addrs[0] != loopback {
			t.Fatalf("resolve(db.test) = %v, %q", addrs, label)
		}
		sock, in, out, label := c.connect(netip.AddrPortFrom(addrs[0], ap))
		if label != "" {
			t.Fatalf("connect = %s", label)
		}
		c.ok(writeAll(c, out, "ping"))
		var got []byte
		for len(got) < 4 {
			r := c.ok(c.call("wasi:io/streams@0.2", "[method]input-stream.blocking-read", in, uint64(16)))
			p, _ := bytesArg(r, "test")
			got = append(got, p...)
		}
		if string(got) != "ping" {
			t.Errorf("echo = %q", got)
		}
		remote := c.ok(c.call(sockTCPIface, "[method]tcp-socket.remote-address", sock)).(types.VariantValue)
		if remote.Value.([]any)[0] != ap {
			t.Errorf("remote-address = %#v, want port %d", remote, ap)
		}
		c.ok(c.call(sockTCPIface, "[method]tcp-socket.shutdown", sock, types.VariantValue{Case: 2}))
		drop(in)
		drop(out)
		drop(sock)
	})

	refusals := []struct {
		name      string
		lookup    string // resolve this first (its label must be lookupWant)
		lookupErr string
		connect   netip.AddrPort
		want      string
	}{
		{"name-not-allowed", "other.test", "access-denied", netip.AddrPort{}, ""},
		{"http-rule-opens-no-socket", "", "", netip.AddrPortFrom(loopback, rp), "access-denied"},
		{"private-literal", "", "", netip.MustParseAddrPort("10.0.0.1:80"), "access-denied"},
		{"metadata-literal", "", "", netip.MustParseAddrPort("169.254.169.254:80"), "access-denied"},
		{"rebind-to-loopback", "rebind.test", "", netip.AddrPortFrom(loopback, rp), "access-denied"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			c := newSockCaller(t)
			before := resolver.lookups.Load()
			if tt.lookup != "" {
				if _, label := c.resolve(tt.lookup); label != tt.lookupErr {
					t.Errorf("resolve(%s) = %q, want %q", tt.lookup, label, tt.lookupErr)
				}
				if tt.lookupErr != "" && resolver.lookups.Load() != before {
					t.Errorf("%s was resolved though it was refused", tt.lookup)
				}
			}
			if tt.connect.IsValid() {
				sock, _, _, label := c.connect(tt.connect)
				if label != tt.want {
					t.Errorf("connect(%s) = %q, want %q", tt.connect, label, tt.want)
				}
				drop(sock)
			}
		})
	}
	if n := refused.accepts.Load(); n != 0 {
		t.Errorf("the refused listener accepted %d connections", n)
	}

	t.Run("no-checker", func(t *testing.T) {
		c := newCaller(t, New(Config{Resolver: resolver}))
		if _, label := c.resolve("db.test"); label != "access-denied" {
			t.Errorf("resolve outside a call = %q, want access-denied", label)
		}
	})
	t.Run("listen-refused", func(t *testing.T) {
		c := newSockCaller(t)
		network := c.call("wasi:sockets/instance-network@0.2", "instance-network")
		sock := c.ok(c.call("wasi:sockets/tcp-create-socket@0.2", "create-tcp-socket", types.VariantValue{Case: 0}))
		local := types.VariantValue{Case: 0, Value: []any{ap, []any{uint8(127), uint8(0), uint8(0), uint8(1)}}}
		if r := c.call(sockTCPIface, "[method]tcp-socket.start-bind", sock, network, local).(types.VariantValue); r.Case != 1 || c.socketErrorLabel(r.Value) != "access-denied" {
			t.Errorf("start-bind = %#v, want access-denied", r)
		}
		if r := c.call(sockTCPIface, "[method]tcp-socket.start-listen", sock).(types.VariantValue); r.Case != 1 || c.socketErrorLabel(r.Value) != "invalid-state" {
			t.Errorf("start-listen after a refused bind = %#v, want invalid-state", r)
		}
		drop(sock)
		drop(network)
	})
}

func TestHTTPSVerifiesTheServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secret")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	authority := fmt.Sprintf("127.0.0.1:%d", port)
	pol := mustPolicy(t, "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: \"https://127.0.0.1:%d\"\n", port)
	tests := []struct {
		name     string
		roots    bool // trust the test server's certificate
		wantCode string
	}{
		{"trusted", true, ""},
		{"system-roots", false, "TLS-certificate-error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{}
			if tt.roots {
				cfg.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			}
			c := newCaller(t, New(cfg))
			c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
			future, code := c.handle(newRequest(c, methodGet, types.VariantValue{Case: 1}, authority, "/"))
			if code != "" {
				t.Fatalf("handle = %s", code)
			}
			resp, code := c.await(future)
			if code != tt.wantCode {
				t.Fatalf("response = %q, want %q", code, tt.wantCode)
			}
			if code == "" {
				if body, _ := c.readBody(resp); body != "secret" {
					t.Errorf("body = %q", body)
				}
			}
		})
	}
}
