package wasi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// wasi:sockets TCP listening. A bind is decided as tcp-listen://ADDR:PORT
// (the local address and port) before anything is bound, and the address
// is then re-checked as at any dial, so binding loopback, 0.0.0.0 or ::
// needs a rule naming that address: `tcp-listen://127.0.0.1:8080`. A bind
// to port 0 is refused: the policy names the ports a component may listen
// on, and an ephemeral port is none of them.
//
// Go cannot bind a TCP socket without listening on it, so start-bind opens
// the listener (its errors are reported by finish-bind) and start-listen
// starts accepting. Whoever connects to an allowed listener is accepted:
// the rule grants the port to all comers, as a listening socket does.

const listenScheme = "tcp-listen"

// listener is the listening half of a tcp-socket: one goroutine accepts a
// connection at a time and holds it until the guest takes it with accept.
type listener struct {
	ln net.Listener

	mu      sync.Mutex
	pending net.Conn
	err     error         // the accept loop's end, once it ended
	ready   chan struct{} // closed while a connection or err waits
	taken   chan struct{} // the guest took the pending connection
	started bool
	closed  bool
}

func newListener(ln net.Listener) *listener {
	return &listener{ln: ln, ready: make(chan struct{}), taken: make(chan struct{}, 1)}
}

// start begins accepting; it is idempotent.
func (l *listener) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return
	}
	l.started = true
	go l.acceptLoop()
}

func (l *listener) acceptLoop() {
	for {
		conn, err := l.ln.Accept()
		l.mu.Lock()
		if l.closed {
			if conn != nil {
				_ = conn.Close()
			}
			l.mu.Unlock()
			return
		}
		if err != nil {
			l.err = err
			close(l.ready)
			l.mu.Unlock()
			return
		}
		l.pending = conn
		close(l.ready)
		l.mu.Unlock()
		if _, ok := <-l.taken; !ok {
			return
		}
	}
}

// readyChan is ready while a connection (or the loop's end) waits.
func (l *listener) readyChan() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ready
}

// take returns the pending connection, or nil (and the loop's error, if it
// ended) when none waits.
func (l *listener) take() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		return nil, l.err
	}
	conn := l.pending
	l.pending, l.ready = nil, make(chan struct{})
	l.taken <- struct{}{} // never blocks: the loop waits for it, capacity 1
	return conn, nil
}

// close stops listening and drops a connection the guest did not take.
func (l *listener) close() {
	_ = l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.pending != nil {
		_ = l.pending.Close()
		l.pending = nil
	}
	close(l.taken)
}

// listenFuncs adds the bind, listen and accept methods to tcp.
func (h *Host) listenFuncs(tcp map[string]hostFn, fail func(string) ([]any, error), decide func(context.Context, policy.Network) ([]any, error)) {
	tcpRes := h.resource(sockTCP, "tcp-socket")
	withSocket := onHandle[*tcpSocket]("tcp-socket")
	tcp["[method]tcp-socket.start-bind"] = withSocket("start-bind", func(ctx context.Context, s *tcpSocket, args []any) ([]any, error) {
		ap, family, err := socketAddressArg(args[1])
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		state := s.state
		s.mu.Unlock()
		switch {
		case state != tcpUnbound:
			return fail("invalid-state")
		case family != s.family:
			return fail("invalid-argument")
		case ap.Port() == 0:
			return fail("access-denied")
		}
		addr := ap.Addr().Unmap()
		if res, err := decide(ctx, policy.Network{Scheme: listenScheme, Host: addr.String(), Port: ap.Port()}); res != nil || err != nil {
			return res, err
		}
		if res, err := checkLocalAddress(ctx, fail, listenScheme, addr, ap.Port()); res != nil || err != nil {
			return res, err
		}
		ln, err := net.Listen(tcpNetwork(s.family), netip.AddrPortFrom(addr, ap.Port()).String())
		s.mu.Lock()
		defer s.mu.Unlock()
		s.state, s.bindErr = tcpBound, err
		if err == nil {
			s.listener = newListener(ln)
		}
		return one(okValue(nil))
	})
	tcp["[method]tcp-socket.finish-bind"] = withSocket("finish-bind", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.state != tcpBound || s.bindDone {
			return fail("not-in-progress")
		}
		s.bindDone = true
		if s.bindErr != nil {
			s.state = tcpClosed
			return fail(bindErrorLabel(s.bindErr))
		}
		return one(okValue(nil))
	})
	tcp["[method]tcp-socket.start-listen"] = withSocket("start-listen", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.state != tcpBound || !s.bindDone || s.listener == nil {
			return fail("invalid-state")
		}
		s.state = tcpListenStarted
		return one(okValue(nil))
	})
	tcp["[method]tcp-socket.finish-listen"] = withSocket("finish-listen", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.state != tcpListenStarted {
			return fail("not-in-progress")
		}
		s.state = tcpListening
		s.listener.start()
		return one(okValue(nil))
	})
	tcp["[method]tcp-socket.accept"] = withSocket("accept", func(ctx context.Context, s *tcpSocket, _ []any) ([]any, error) {
		s.mu.Lock()
		l, state := s.listener, s.state
		s.mu.Unlock()
		if state != tcpListening {
			return fail("invalid-state")
		}
		st, err := h.state(ctx)
		if err != nil {
			return nil, err
		}
		ns, err := h.netState(ctx)
		if err != nil {
			return nil, err
		}
		conn, err := l.take()
		switch {
		case conn == nil && err != nil:
			return fail("unknown")
		case conn == nil:
			return fail("would-block")
		}
		release, ok := ns.acquire()
		if !ok {
			_ = conn.Close()
			return fail("new-socket-limit")
		}
		c := &tcpSocket{family: s.family, release: release, state: tcpConnected, conn: conn, streamsOut: true}
		if err := st.track(&c.tracked, "tcp-socket", false); err != nil {
			_ = c.Close()
			return nil, err
		}
		c.in, c.out = newStreamPipe(), newConnSink(conn)
		in, err := h.newInputStream(st, c.in)
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		out, err := h.newOutputStream(st, c.out)
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		go pumpConn(ctx, conn, c.in)
		return one(okValue([]any{handleValue(tcpRes, c), in, out}))
	})
	tcp["[method]tcp-socket.is-listening"] = withSocket("is-listening", func(_ context.Context, s *tcpSocket, _ []any) ([]any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return one(s.state == tcpListening)
	})
	tcp["[method]tcp-socket.set-listen-backlog-size"] = withSocket("set-listen-backlog-size", func(context.Context, *tcpSocket, []any) ([]any, error) {
		return fail("not-supported") // the host keeps the system's backlog
	})
}

// checkLocalAddress re-checks a local address the policy allowed by rule,
// as at any dial: loopback, unspecified, private… pass only when a rule
// names the address itself.
func checkLocalAddress(ctx context.Context, fail func(string) ([]any, error), scheme string, addr netip.Addr, port uint16) ([]any, error) {
	err := access.FromContext(ctx).CheckAddress(ctx, scheme, addr, port)
	switch {
	case err == nil:
		return nil, nil
	case access.IsDenied(err):
		return fail("access-denied")
	}
	return nil, fmt.Errorf("wasi: checking %s://%s: %w", scheme, netip.AddrPortFrom(addr, port), err)
}

// tcpNetwork is the Go network name for an ip-address-family.
func tcpNetwork(family uint32) string {
	if family == 0 {
		return "tcp4"
	}
	return "tcp6"
}

// bindErrorLabel is the error-code of a failed bind.
func bindErrorLabel(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "address-in-use"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "address-not-bindable"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "access-denied"
	}
	return "unknown"
}
