package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// wasi:sockets — outgoing TCP and name lookups, decided by policy:
//
//   - resolve-addresses decides tcp://NAME (port 0: "any port the policy
//     allows for it") before the name is resolved, so a refused name never
//     reaches a DNS server; the addresses it returns are remembered with
//     the name.
//   - start-connect decides tcp://HOST:PORT, HOST being the name a lookup of
//     this instance resolved to the address, else the address itself; then
//     the address is re-checked as at any dial (loopback, private,
//     link-local… refused unless the policy names it).
//   - binding, listening and accepting (listen.go) need a
//     tcp-listen://ADDR:PORT rule naming the local address and port; UDP
//     (udp.go) needs a udp://HOST:PORT rule for every remote it sends to,
//     and a udp-listen://ADDR:PORT rule to bind a port of its choosing.
//     Without them, access-denied.
//   - socket options (keep-alive, hop limit, buffer sizes) answer
//     not-supported: the host keeps Go's defaults.
//
// A host grant for http(s) never opens a socket: the policy reads a rule
// without a scheme as http and https only (Wassette turns every socket on
// with any network grant; Tapedeck does not).

const (
	sockNetwork  = "wasi:sockets/network"
	sockLookup   = "wasi:sockets/ip-name-lookup"
	sockTCP      = "wasi:sockets/tcp"
	sockTCPNew   = "wasi:sockets/tcp-create-socket"
	sockUDP      = "wasi:sockets/udp"
	sockUDPNew   = "wasi:sockets/udp-create-socket"
	socketScheme = "tcp"
)

type network struct{ tracked }

// tcpState is where a tcp-socket is in its life.
type tcpState int

const (
	tcpUnbound tcpState = iota
	tcpConnecting
	tcpConnected
	tcpBound         // start-bind opened the listener (see listen.go)
	tcpListenStarted // start-listen was called
	tcpListening
	tcpClosed // a connect or bind failed, or the socket was shut down both ways
)

type tcpSocket struct {
	tracked
	family  uint32 // ip-address-family: 0 ipv4, 1 ipv6
	release func() // gives back the connection slot

	mu          sync.Mutex
	state       tcpState
	connectDone chan struct{} // closes when the dial ends
	cancel      context.CancelFunc
	conn        net.Conn
	connErr     error
	streamsOut  bool // finish-connect handed out the streams
	in          *streamPipe
	out         *connSink

	listener *listener // from start-bind on
	bindErr  error
	bindDone bool // finish-bind reported the bind
}

func (s *tcpSocket) Close() error {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	conn, l := s.conn, s.listener
	s.state = tcpClosed
	s.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	if l != nil {
		l.close()
	}
	if s.release != nil {
		s.release()
	}
	return s.tracked.Close()
}

// lookupStream is a resolve-address-stream: done closes when the lookup ends.
type lookupStream struct {
	tracked
	done   chan struct{}
	cancel context.CancelFunc

	mu    sync.Mutex
	addrs []netip.Addr
	err   error // a sockets error-code label, as an error
}

func (l *lookupStream) Close() error {
	l.cancel()
	return l.tracked.Close()
}

// sockErr is a wasi:sockets error-code, by its label.
type sockErr string

func (e sockErr) Error() string { return "wasi:sockets: " + string(e) }

func (h *Host) socketsFuncs() map[string]map[string]hostFn {
	codeT := h.valueType(sockNetwork, "error-code")
	code := func(label string) types.VariantValue {
		return types.VariantValue{Case: caseIndex(codeT, label)}
	}
	fail := func(label string) ([]any, error) { return one(errValue(code(label))) }
	tcpRes := h.resource(sockTCP, "tcp-socket")
	lookupRes := h.resource(sockLookup, "resolve-address-stream")

	// decide asks the checker; a refusal is access-denied, a call that
	// ended while a person was asked is a trap.
	decide := func(ctx context.Context, a policy.Network) ([]any, error) {
		err := access.FromContext(ctx).Check(ctx, a)
		switch {
		case err == nil:
			return nil, nil
		case access.IsDenied(err):
			return fail("access-denied")
		}
		return nil, fmt.Errorf("wasi: deciding %s: %w", a, err)
	}

	out := map[string]map[string]hostFn{}
	h.udpFuncs(out, fail, decide)

	out[sockNetwork] = map[string]hostFn{
		"network-error-code": func(_ context.Context, args []any) ([]any, error) {
			e, err := hostObject[*ioError](args[0], "network-error-code")
			if err != nil {
				return nil, err
			}
			if label := socketErrorLabel(e.err); label != "" {
				return one(someValue(code(label)))
			}
			return one(noneValue)
		},
	}
	out["wasi:sockets/instance-network"] = map[string]hostFn{
		"instance-network": func(ctx context.Context, _ []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			n := &network{}
			if err := st.track(&n.tracked, "network", false); err != nil {
				return nil, err
			}
			return one(handleValue(h.networkRes, n))
		},
	}

	out[sockLookup] = map[string]hostFn{
		"resolve-addresses": func(ctx context.Context, args []any) ([]any, error) {
			name, err := stringArg(args[1], "resolve-addresses")
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			ns, err := h.netState(ctx)
			if err != nil {
				return nil, err
			}
			l := &lookupStream{done: make(chan struct{})}
			if addr, ok := parseIPName(name); ok {
				// An address needs no lookup; a connect to it is decided as the address.
				l.addrs, l.cancel = []netip.Addr{addr}, func() {}
				close(l.done)
			} else {
				host, err := checkHostName(name)
				if err != nil {
					return fail("invalid-argument")
				}
				if res, err := decide(ctx, policy.Network{Scheme: socketScheme, Host: host, Port: 0}); res != nil || err != nil {
					return res, err
				}
				lookupCtx, cancel := context.WithTimeout(ctx, st.limits.ConnectTimeout)
				l.cancel = cancel
				go func() {
					defer close(l.done)
					addrs, err := h.resolver().LookupNetIP(lookupCtx, "ip", host)
					l.mu.Lock()
					defer l.mu.Unlock()
					var dnsErr *net.DNSError
					switch {
					case err == nil && len(addrs) > 0:
						ns.remember(host, addrs)
						l.addrs = addrs
					case err == nil, errors.As(err, &dnsErr) && dnsErr.IsNotFound:
						l.err = sockErr("name-unresolvable")
					case isTimeout(err), errors.As(err, &dnsErr) && dnsErr.IsTemporary:
						l.err = sockErr("temporary-resolver-failure")
					default:
						l.err = sockErr("permanent-resolver-failure")
					}
				}()
			}
			if err := st.track(&l.tracked, "resolve-address-stream", false); err != nil {
				l.cancel()
				return nil, err
			}
			return one(okValue(handleValue(lookupRes, l)))
		},
		"[method]resolve-address-stream.resolve-next-address": func(_ context.Context, args []any) ([]any, error) {
			l, err := hostObject[*lookupStream](args[0], "resolve-next-address")
			if err != nil {
				return nil, err
			}
			select {
			case <-l.done:
			default:
				return fail("would-block")
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.err != nil {
				label := string(l.err.(sockErr))
				l.err = nil // reported once; the stream then ends
				return fail(label)
			}
			if len(l.addrs) == 0 {
				return one(okValue(noneValue))
			}
			a := l.addrs[0]
			l.addrs = l.addrs[1:]
			return one(okValue(someValue(ipAddressValue(a))))
		},
		"[method]resolve-address-stream.subscribe": subscriber(h, "resolve-address-stream.subscribe", func(l *lookupStream) <-chan struct{} { return l.done }),
	}

	out[sockTCPNew] = map[string]hostFn{
		"create-tcp-socket": h.socketCreator("create-tcp-socket", tcpRes, fail, func(family uint32, release func()) (any, *tracked) {
			s := &tcpSocket{family: family, release: release}
			return s, &s.tracked
		}),
	}

	withSocket := onHandle[*tcpSocket]("tcp-socket")
	tcp := map[string]hostFn{
		"[method]tcp-socket.start-connect": withSocket("start-connect", func(ctx context.Context, s *tcpSocket, args []any) ([]any, error) {
			ap, family, err := socketAddressArg(args[1])
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			ns, err := h.netState(ctx)
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			state := s.state
			s.mu.Unlock()
			switch {
			case state != tcpUnbound:
				return fail("invalid-state")
			case family != s.family || ap.Port() == 0:
				return fail("invalid-argument")
			}
			host := ns.nameOf(ap.Addr())
			if host == "" {
				host = ap.Addr().Unmap().String()
			}
			if res, err := decide(ctx, policy.Network{Scheme: socketScheme, Host: host, Port: ap.Port()}); res != nil || err != nil {
				return res, err
			}
			checker := access.FromContext(ctx)
			dialCtx, cancel := context.WithCancel(ctx)
			s.mu.Lock()
			s.state, s.connectDone, s.cancel = tcpConnecting, make(chan struct{}), cancel
			s.mu.Unlock()
			go func() {
				conn, err := h.dialDecided(dialCtx, checker, socketScheme, ap.Addr().Unmap().String(), ap.Port(), st.limits.ConnectTimeout)
				s.mu.Lock()
				if s.state == tcpClosed && conn != nil { // dropped while connecting
					_ = conn.Close()
					conn = nil
				}
				s.conn, s.connErr = conn, err
				s.mu.Unlock()
				close(s.connectDone)
			}()
			return one(okValue(nil))
		}),
		"[method]tcp-socket.finish-connect": withSocket("finish-connect", func(ctx context.Context, s *tcpSocket, _ []any) ([]any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.state != tcpConnecting {
				return fail("not-in-progress")
			}
			select {
			case <-s.connectDone:
			default:
				return fail("would-block")
			}
			if s.connErr != nil {
				s.state = tcpClosed
				return fail(connectErrorLabel(s.connErr))
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			s.in, s.out = newStreamPipe(), newConnSink(s.conn)
			in, err := h.newInputStream(st, s.in)
			if err != nil {
				return nil, err
			}
			outStream, err := h.newOutputStream(st, s.out)
			if err != nil {
				return nil, err
			}
			s.state, s.streamsOut = tcpConnected, true
			go pumpConn(ctx, s.conn, s.in)
			return one(okValue([]any{in, outStream}))
		}),
		"[method]tcp-socket.subscribe": subscriber(h, "tcp-socket.subscribe", func(s *tcpSocket) <-chan struct{} {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch s.state {
			case tcpConnecting:
				return s.connectDone
			case tcpListening:
				return s.listener.readyChan()
			}
			return closedChan
		}),
		"[method]tcp-socket.shutdown": withSocket("shutdown", func(ctx context.Context, s *tcpSocket, args []any) ([]any, error) {
			how, err := variantArg(args[0], "tcp-socket.shutdown")
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			conn, state, outSink := s.conn, s.state, s.out
			s.mu.Unlock()
			if state != tcpConnected {
				return fail("invalid-state")
			}
			tc, _ := conn.(*net.TCPConn)
			if how.Case != 1 { // receive or both
				if tc != nil {
					_ = tc.CloseRead()
				}
			}
			if how.Case != 0 { // send or both
				if err := outSink.idle(ctx); err != nil {
					return nil, err
				}
				outSink.closeWith(io.EOF)
				if tc != nil {
					_ = tc.CloseWrite()
				}
			}
			return one(okValue(nil))
		}),
		"[method]tcp-socket.local-address": withSocket("local-address", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
			s.mu.Lock()
			l, state := s.listener, s.state
			s.mu.Unlock()
			if l != nil && (state == tcpBound || state == tcpListenStarted || state == tcpListening) {
				return s.addressOf(fail, l.ln.Addr())
			}
			return s.address(fail, func(c net.Conn) net.Addr { return c.LocalAddr() })
		}),
		"[method]tcp-socket.remote-address": withSocket("remote-address", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
			return s.address(fail, func(c net.Conn) net.Addr { return c.RemoteAddr() })
		}),
		"[method]tcp-socket.address-family": withSocket("address-family", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
			return one(types.VariantValue{Case: s.family})
		}),
	}
	h.listenFuncs(tcp, fail, decide)
	for name, fn := range h.denyAll(sockTCP, "not-supported") {
		if tcp[name] == nil {
			tcp[name] = fn
		}
	}
	out[sockTCP] = tcp
	return out
}

// address answers local-address and remote-address of a connected socket.
func (s *tcpSocket) address(fail func(string) ([]any, error), pick func(net.Conn) net.Addr) ([]any, error) {
	s.mu.Lock()
	conn, state := s.conn, s.state
	s.mu.Unlock()
	if state != tcpConnected || conn == nil {
		return fail("invalid-state")
	}
	return s.addressOf(fail, pick(conn))
}

// addressOf answers an address of the socket as its family writes it.
func (s *tcpSocket) addressOf(fail func(string) ([]any, error), a net.Addr) ([]any, error) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return nil, fmt.Errorf("wasi: tcp-socket address %s: %w (a bug in the host)", a, err)
	}
	if s.family == 0 {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return one(okValue(socketAddressValue(ap)))
}

// parseIPName reads a name that is an IP address ("127.0.0.1", "::1",
// "[::1]"), as resolve-addresses accepts.
func parseIPName(name string) (netip.Addr, bool) {
	n := strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	addr, err := netip.ParseAddr(n)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, false
	}
	return addr, true
}

// ipAddressValue is an ip-address variant.
func ipAddressValue(a netip.Addr) types.VariantValue {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return types.VariantValue{Case: 0, Value: []any{b[0], b[1], b[2], b[3]}}
	}
	b := a.As16()
	t := make([]any, 8)
	for i := range t {
		t[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return types.VariantValue{Case: 1, Value: t}
}

// socketAddressValue is an ip-socket-address variant.
func socketAddressValue(ap netip.AddrPort) types.VariantValue {
	a := ipAddressValue(ap.Addr())
	if a.Case == 0 {
		return types.VariantValue{Case: 0, Value: []any{ap.Port(), a.Value}}
	}
	return types.VariantValue{Case: 1, Value: []any{ap.Port(), uint32(0), a.Value, uint32(0)}}
}

// socketAddressArg reads an ip-socket-address argument and its family.
func socketAddressArg(arg any) (netip.AddrPort, uint32, error) {
	bad := func() (netip.AddrPort, uint32, error) {
		return netip.AddrPort{}, 0, fmt.Errorf("wasi: tcp-socket.start-connect: malformed ip-socket-address %#v (a bug in the runtime)", arg)
	}
	v, ok := arg.(types.VariantValue)
	if !ok {
		return bad()
	}
	rec, ok := v.Value.([]any)
	if !ok || len(rec) < 2 {
		return bad()
	}
	port, ok := rec[0].(uint16)
	if !ok {
		return bad()
	}
	switch v.Case {
	case 0:
		t, ok := rec[1].([]any)
		if !ok || len(t) != 4 {
			return bad()
		}
		var b [4]byte
		for i := range b {
			if b[i], ok = t[i].(uint8); !ok {
				return bad()
			}
		}
		return netip.AddrPortFrom(netip.AddrFrom4(b), port), 0, nil
	case 1:
		if len(rec) != 4 {
			return bad()
		}
		t, ok := rec[2].([]any)
		if !ok || len(t) != 8 {
			return bad()
		}
		var b [16]byte
		for i := 0; i < 8; i++ {
			u, ok := t[i].(uint16)
			if !ok {
				return bad()
			}
			b[2*i], b[2*i+1] = byte(u>>8), byte(u)
		}
		return netip.AddrPortFrom(netip.AddrFrom16(b), port), 1, nil
	}
	return bad()
}

// connectErrorLabel is the error-code of a failed connect.
func connectErrorLabel(err error) string {
	var denied *addressDeniedError
	switch {
	case errors.As(err, &denied):
		return "access-denied"
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection-refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "remote-unreachable"
	}
	return "unknown"
}

// socketErrorLabel is the error-code behind a TCP stream's error, or ""
// when err did not come from a socket.
func socketErrorLabel(err error) string {
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection-reset"
	case errors.Is(err, syscall.ECONNABORTED):
		return "connection-aborted"
	case errors.As(err, &opErr) && opErr.Timeout():
		return "timeout"
	case errors.As(err, &opErr):
		return "unknown"
	}
	return ""
}

// unreachableMethods fills in, for each resource named, the methods and
// static functions impl does not implement, with a trap saying no such
// object exists.
func (h *Host) unreachableMethods(impl map[string]hostFn, iface string, resources ...string) {
	def := h.defs[iface]
	for _, name := range def.FuncNames() {
		if impl[name] != nil {
			continue
		}
		for _, r := range resources {
			if strings.HasPrefix(name, "[method]"+r+".") || strings.HasPrefix(name, "[static]"+r+".") {
				impl[name] = unreachable(iface, name, "Tapedeck never creates a "+r)
			}
		}
	}
}

// socketCreator returns create-tcp-socket or create-udp-socket (name): it
// reads the address family, takes one of the instance's socket slots
// (new-socket-limit when none is left), and tracks the socket newSocket
// makes as a res handle, giving the slot back if that fails.
func (h *Host) socketCreator(name string, res *types.Resource, fail func(string) ([]any, error), newSocket func(family uint32, release func()) (any, *tracked)) hostFn {
	return func(ctx context.Context, args []any) ([]any, error) {
		fam, err := variantArg(args[0], name)
		if err != nil {
			return nil, err
		}
		st, err := h.state(ctx)
		if err != nil {
			return nil, err
		}
		ns, err := h.netState(ctx)
		if err != nil {
			return nil, err
		}
		release, ok := ns.acquire()
		if !ok {
			return fail("new-socket-limit")
		}
		s, t := newSocket(fam.Case, release)
		if err := st.track(t, res.Name, false); err != nil {
			release()
			return nil, err
		}
		return one(okValue(handleValue(res, s)))
	}
}
