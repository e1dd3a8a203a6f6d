package wasi

import (
	"io"
	"net"
	"net/netip"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// freePort returns a port on 127.0.0.1 nothing listens on for network
// ("tcp" or "udp") at the time of the call.
func freePort(t *testing.T, network string) uint16 {
	t.Helper()
	switch network {
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return uint16(ln.Addr().(*net.TCPAddr).Port)
	default:
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	}
}

// ipv4SocketAddress is an ip-socket-address value for ap (IPv4).
func ipv4SocketAddress(ap netip.AddrPort) types.VariantValue {
	b := ap.Addr().As4()
	return types.VariantValue{Case: 0, Value: []any{ap.Port(), []any{b[0], b[1], b[2], b[3]}}}
}

// listen binds a new TCP socket to ap and listens, returning the socket or
// the first error label.
func (c *caller) listen(ap netip.AddrPort) (types.Handle, string) {
	c.t.Helper()
	network := c.call("wasi:sockets/instance-network@0.2", "instance-network")
	defer drop(network)
	sock := c.ok(c.call("wasi:sockets/tcp-create-socket@0.2", "create-tcp-socket", types.VariantValue{Case: 0})).(types.Handle)
	steps := []struct {
		fn   string
		args []any
	}{
		{"start-bind", []any{sock, network, ipv4SocketAddress(ap)}},
		{"finish-bind", []any{sock}},
		{"start-listen", []any{sock}},
		{"finish-listen", []any{sock}},
	}
	for _, s := range steps {
		if r := c.call(sockTCPIface, "[method]tcp-socket."+s.fn, s.args...).(types.VariantValue); r.Case == 1 {
			return sock, c.socketErrorLabel(r.Value)
		}
	}
	return sock, ""
}

func TestTCPListenUnderPolicy(t *testing.T) {
	loopback := netip.MustParseAddr("127.0.0.1")
	allowedPort, otherPort := freePort(t, "tcp"), freePort(t, "tcp")
	pol := mustPolicy(t, `version: "1.0"
permissions:
  network:
    allow:
      - host: "tcp-listen://127.0.0.1:%d"
      - host: "tcp://127.0.0.1:%d"
`, allowedPort, otherPort)
	newListenCaller := func(t *testing.T) *caller {
		c := newCaller(t, New(Config{}))
		c.ctx = access.WithChecker(c.ctx, netPolicyChecker{pol})
		return c
	}

	t.Run("allowed-listen-accepts-loopback", func(t *testing.T) {
		c := newListenCaller(t)
		sock, label := c.listen(netip.AddrPortFrom(loopback, allowedPort))
		if label != "" {
			t.Fatalf("listen on an allowed port = %s", label)
		}
		defer drop(sock)
		if !c.call(sockTCPIface, "[method]tcp-socket.is-listening", sock).(bool) {
			t.Error("is-listening = false after finish-listen")
		}
		local := c.ok(c.call(sockTCPIface, "[method]tcp-socket.local-address", sock)).(types.VariantValue)
		if got := local.Value.([]any)[0]; got != allowedPort {
			t.Errorf("local-address port = %v, want %d", got, allowedPort)
		}
		if r := c.call(sockTCPIface, "[method]tcp-socket.accept", sock).(types.VariantValue); r.Case != 1 || c.socketErrorLabel(r.Value) != "would-block" {
			t.Errorf("accept with nobody connecting = %#v, want would-block", r)
		}

		client, err := net.Dial("tcp", netip.AddrPortFrom(loopback, allowedPort).String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		p := c.call(sockTCPIface, "[method]tcp-socket.subscribe", sock)
		c.call("wasi:io/poll@0.2", "poll", []any{p})
		drop(p)
		accepted := c.ok(c.call(sockTCPIface, "[method]tcp-socket.accept", sock)).([]any)
		conn, in, out := accepted[0], accepted[1], accepted[2]
		defer drop(conn)
		defer drop(in)
		defer drop(out)

		if _, err := client.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for len(got) < 5 {
			r := c.ok(c.call("wasi:io/streams@0.2", "[method]input-stream.blocking-read", in, uint64(16)))
			b, _ := bytesArg(r, "test")
			got = append(got, b...)
		}
		if string(got) != "hello" {
			t.Errorf("guest read %q, want hello", got)
		}
		c.ok(writeAll(c, out, "world"))
		reply := make([]byte, 5)
		if _, err := io.ReadFull(client, reply); err != nil || string(reply) != "world" {
			t.Errorf("client read %q, %v; want world", reply, err)
		}
		remote := c.ok(c.call(sockTCPIface, "[method]tcp-socket.remote-address", conn)).(types.VariantValue)
		if got, want := remote.Value.([]any)[0], uint16(client.LocalAddr().(*net.TCPAddr).Port); got != want {
			t.Errorf("accepted socket's remote-address port = %v, want %d", got, want)
		}
	})

	refusals := []struct {
		name string
		addr netip.AddrPort
	}{
		{"port-without-rule", netip.AddrPortFrom(loopback, freePort(t, "tcp"))},
		{"connect-rule-is-not-listen", netip.AddrPortFrom(loopback, otherPort)},
		{"unspecified-not-named", netip.AddrPortFrom(netip.IPv4Unspecified(), allowedPort)},
		{"ephemeral-port", netip.AddrPortFrom(loopback, 0)},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			c := newListenCaller(t)
			sock, label := c.listen(tt.addr)
			defer drop(sock)
			if label != "access-denied" {
				t.Fatalf("listen on %s = %q, want access-denied", tt.addr, label)
			}
			if tt.addr.Port() == 0 {
				return
			}
			if conn, err := net.Dial("tcp", tt.addr.String()); err == nil {
				conn.Close()
				t.Errorf("%s accepts connections after a refused bind", tt.addr)
			}
		})
	}

	t.Run("no-checker", func(t *testing.T) {
		c := newCaller(t, New(Config{}))
		sock, label := c.listen(netip.AddrPortFrom(loopback, allowedPort))
		defer drop(sock)
		if label != "access-denied" {
			t.Errorf("listen outside a call = %q, want access-denied", label)
		}
	})
}
