package wasi

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

const sockUDPIface = "wasi:sockets/udp@0.2"

// udpEcho echoes datagrams on 127.0.0.1 and counts what it receives.
type udpEcho struct {
	conn     *net.UDPConn
	received atomic.Int32
}

func newUDPEcho(t *testing.T) *udpEcho {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	e := &udpEcho{conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.received.Add(1)
			_, _ = conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return e
}

func (e *udpEcho) addr() netip.AddrPort { return e.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// udpBind creates a UDP socket bound to local and returns it or the first
// error label.
func (c *caller) udpBind(local netip.AddrPort) (types.Handle, string) {
	c.t.Helper()
	network := c.call("wasi:sockets/instance-network@0.2", "instance-network")
	defer drop(network)
	sock := c.ok(c.call("wasi:sockets/udp-create-socket@0.2", "create-udp-socket", types.VariantValue{Case: 0})).(types.Handle)
	if r := c.call(sockUDPIface, "[method]udp-socket.start-bind", sock, network, ipv4SocketAddress(local)).(types.VariantValue); r.Case == 1 {
		return sock, c.socketErrorLabel(r.Value)
	}
	if r := c.call(sockUDPIface, "[method]udp-socket.finish-bind", sock).(types.VariantValue); r.Case == 1 {
		return sock, c.socketErrorLabel(r.Value)
	}
	return sock, ""
}

// udpStreams opens the socket's datagram streams, connected to remote
// unless it is the zero AddrPort.
func (c *caller) udpStreams(sock types.Handle, remote netip.AddrPort) (in, out types.Handle, label string) {
	c.t.Helper()
	opt := noneValue
	if remote.IsValid() {
		opt = someValue(ipv4SocketAddress(remote))
	}
	r := c.call(sockUDPIface, "[method]udp-socket.stream", sock, opt).(types.VariantValue)
	if r.Case == 1 {
		return in, out, c.socketErrorLabel(r.Value)
	}
	pair := r.Value.([]any)
	return pair[0].(types.Handle), pair[1].(types.Handle), ""
}

// udpSend sends one datagram to (or, zero, to the stream's remote) and
// returns how many were sent, or the error label.
func (c *caller) udpSend(out types.Handle, data string, to netip.AddrPort) (uint64, string) {
	c.t.Helper()
	if n := c.ok(c.call(sockUDPIface, "[method]outgoing-datagram-stream.check-send", out)).(uint64); n == 0 {
		c.t.Fatal("check-send permits no datagram")
	}
	opt := noneValue
	if to.IsValid() {
		opt = someValue(ipv4SocketAddress(to))
	}
	r := c.call(sockUDPIface, "[method]outgoing-datagram-stream.send", out, []any{[]any{bytesValue([]byte(data)), opt}}).(types.VariantValue)
	if r.Case == 1 {
		return 0, c.socketErrorLabel(r.Value)
	}
	return r.Value.(uint64), ""
}

// udpReceive waits for and returns one datagram and its sender.
func (c *caller) udpReceive(in types.Handle) (string, netip.AddrPort) {
	c.t.Helper()
	for {
		p := c.call(sockUDPIface, "[method]incoming-datagram-stream.subscribe", in)
		c.call("wasi:io/poll@0.2", "poll", []any{p})
		drop(p)
		list := c.ok(c.call(sockUDPIface, "[method]incoming-datagram-stream.receive", in, uint64(4))).([]any)
		if len(list) == 0 {
			continue
		}
		rec := list[0].([]any)
		data, err := bytesArg(rec[0], "test")
		if err != nil {
			c.t.Fatal(err)
		}
		addr := rec[1].(types.VariantValue).Value.([]any)
		b := addr[1].([]any)
		return string(data), netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[0].(uint8), b[1].(uint8), b[2].(uint8), b[3].(uint8)}), addr[0].(uint16))
	}
}

func TestUDPUnderPolicy(t *testing.T) {
	echo, silent := newUDPEcho(t), newUDPEcho(t)
	loopback := netip.MustParseAddr("127.0.0.1")
	ephemeral := netip.AddrPortFrom(loopback, 0)
	listenPort := freePort(t, "udp")
	pol := mustPolicy(t, `version: "1.0"
permissions:
  network:
    allow:
      - host: "udp://127.0.0.1:%d"
      - host: "tcp://127.0.0.1:%d"
      - host: "udp-listen://127.0.0.1:%d"
`, echo.addr().Port(), silent.addr().Port(), listenPort)
	newUDPCaller := func(t *testing.T) *caller {
		c := newCaller(t, New(Config{}))
		c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
		return c
	}

	echoTests := []struct {
		name      string
		connected bool // stream(some(echo)) rather than an address per datagram
	}{
		{"echo-per-datagram-address", false},
		{"echo-connected-stream", true},
	}
	for _, tt := range echoTests {
		t.Run(tt.name, func(t *testing.T) {
			c := newUDPCaller(t)
			sock, label := c.udpBind(ephemeral)
			if label != "" {
				t.Fatalf("bind to an ephemeral port = %s", label)
			}
			defer drop(sock)
			var remote, to netip.AddrPort
			if tt.connected {
				remote = echo.addr()
			} else {
				to = echo.addr()
			}
			in, out, label := c.udpStreams(sock, remote)
			if label != "" {
				t.Fatalf("stream = %s", label)
			}
			defer drop(in)
			defer drop(out)
			if n, label := c.udpSend(out, "ping", to); n != 1 || label != "" {
				t.Fatalf("send = %d, %q; want 1 sent", n, label)
			}
			data, from := c.udpReceive(in)
			if data != "ping" || from != echo.addr() {
				t.Errorf("received %q from %s, want ping from %s", data, from, echo.addr())
			}
		})
	}

	t.Run("send-without-rule-is-refused", func(t *testing.T) {
		c := newUDPCaller(t)
		sock, label := c.udpBind(ephemeral)
		if label != "" {
			t.Fatalf("bind = %s", label)
		}
		defer drop(sock)
		if _, _, label := c.udpStreams(sock, silent.addr()); label != "access-denied" {
			t.Errorf("stream to a host without a udp rule = %q, want access-denied", label)
		}
		in, out, label := c.udpStreams(sock, netip.AddrPort{})
		if label != "" {
			t.Fatalf("stream = %s", label)
		}
		defer drop(in)
		defer drop(out)
		if _, label := c.udpSend(out, "leak", silent.addr()); label != "access-denied" {
			t.Errorf("send to a host without a udp rule = %q, want access-denied", label)
		}
	})

	t.Run("client-socket-hears-only-allowed-peers", func(t *testing.T) {
		c := newUDPCaller(t)
		sock, label := c.udpBind(ephemeral)
		if label != "" {
			t.Fatalf("bind = %s", label)
		}
		defer drop(sock)
		in, out, label := c.udpStreams(sock, netip.AddrPort{})
		if label != "" {
			t.Fatalf("stream = %s", label)
		}
		defer drop(in)
		defer drop(out)
		local := c.ok(c.call(sockUDPIface, "[method]udp-socket.local-address", sock)).(types.VariantValue)
		localAddr := netip.AddrPortFrom(loopback, local.Value.([]any)[0].(uint16))
		// A stranger writes first; then the allowed echo answers. The
		// guest must see only the echo.
		stranger, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(localAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer stranger.Close()
		if _, err := stranger.Write([]byte("stranger")); err != nil {
			t.Fatal(err)
		}
		if n, label := c.udpSend(out, "ping", echo.addr()); n != 1 || label != "" {
			t.Fatalf("send = %d, %q", n, label)
		}
		if data, from := c.udpReceive(in); data != "ping" || from != echo.addr() {
			t.Errorf("received %q from %s, want only ping from %s", data, from, echo.addr())
		}
	})

	t.Run("listen-allowed-by-rule", func(t *testing.T) {
		c := newUDPCaller(t)
		sock, label := c.udpBind(netip.AddrPortFrom(loopback, listenPort))
		if label != "" {
			t.Fatalf("bind to a udp-listen port = %s", label)
		}
		defer drop(sock)
		in, out, label := c.udpStreams(sock, netip.AddrPort{})
		if label != "" {
			t.Fatalf("stream = %s", label)
		}
		defer drop(in)
		defer drop(out)
		client, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, listenPort)))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		if _, err := client.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		data, from := c.udpReceive(in)
		if data != "hello" || from != client.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Errorf("received %q from %s, want hello from %s", data, from, client.LocalAddr())
		}
	})

	bindRefusals := []struct {
		name  string
		local netip.AddrPort
	}{
		{"listen-port-without-rule", netip.AddrPortFrom(loopback, freePort(t, "udp"))},
		{"udp-rule-is-not-listen", echo.addr()},
		{"unspecified-not-named", netip.AddrPortFrom(netip.IPv4Unspecified(), listenPort)},
	}
	for _, tt := range bindRefusals {
		t.Run(tt.name, func(t *testing.T) {
			c := newUDPCaller(t)
			sock, label := c.udpBind(tt.local)
			defer drop(sock)
			if label != "access-denied" {
				t.Errorf("bind to %s = %q, want access-denied", tt.local, label)
			}
		})
	}

	t.Run("no-checker", func(t *testing.T) {
		c := newCaller(t, New(Config{}))
		sock, label := c.udpBind(ephemeral)
		if label != "" {
			t.Fatalf("bind = %s", label)
		}
		defer drop(sock)
		in, out, label := c.udpStreams(sock, netip.AddrPort{})
		if label != "" {
			t.Fatalf("stream = %s", label)
		}
		defer drop(in)
		defer drop(out)
		if _, label := c.udpSend(out, "leak", echo.addr()); label != "access-denied" {
			t.Errorf("send outside a call = %q, want access-denied", label)
		}
	})

	// A refused send never reaches the socket (the decision comes first),
	// so the count is final without waiting.
	if n := silent.received.Load(); n != 0 {
		t.Errorf("the server without a udp rule received %d datagrams", n)
	}
}
