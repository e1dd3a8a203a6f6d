package wasi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// wasi:sockets UDP, decided by policy:
//
//   - a bind to a port the guest names is a listening socket, decided as
//     udp-listen://ADDR:PORT and its address re-checked (loopback and
//     0.0.0.0 need a rule naming them); such a socket receives from anyone.
//   - a bind to port 0 is a client socket: the bind itself needs no rule,
//     but the socket only receives datagrams from the addresses the guest
//     was allowed to send to, so it cannot be used to listen.
//   - every remote address — stream's, and each datagram's — is decided as
//     udp://HOST:PORT (HOST the name a lookup resolved to the address, else
//     the address) and re-checked with CheckAddress before anything is sent.

const (
	udpScheme       = "udp"
	udpListenScheme = "udp-listen"
	// maxQueuedDatagrams caps the datagrams received and not yet read per
	// socket; more are dropped, as a full socket buffer drops them.
	maxQueuedDatagrams = 64
	// maxSendBatch is what check-send permits per send.
	maxSendBatch = 16
	// maxDatagram is the largest UDP payload over IPv4.
	maxDatagram = 65507
)

type udpState int

const (
	udpUnbound udpState = iota
	udpBinding          // start-bind was called
	udpBound
	udpClosed
)

type udpSocket struct {
	tracked
	family  uint32
	release func()

	mu      sync.Mutex
	state   udpState
	bindErr error
	conn    *net.UDPConn
	listens bool                    // bound to a port a udp-listen rule allowed
	remote  netip.AddrPort          // set by stream(some(addr))
	peers   map[netip.AddrPort]bool // allowed destinations a client socket hears from
	queue   []incomingDatagram
	ready   chan struct{} // closed while queue holds a datagram
	reading bool
	permit  uint64 // datagrams the last check-send allowed
}

type incomingDatagram struct {
	data []byte
	from netip.AddrPort
}

func (s *udpSocket) Close() error {
	s.mu.Lock()
	conn := s.conn
	s.state = udpClosed
	s.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	if s.release != nil {
		s.release()
	}
	return s.tracked.Close()
}

// readLoop queues the datagrams the socket may hear until conn closes.
func (s *udpSocket) readLoop() {
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		s.mu.Lock()
		if s.hears(from) && len(s.queue) < maxQueuedDatagrams {
			if len(s.queue) == 0 {
				close(s.ready)
			}
			s.queue = append(s.queue, incomingDatagram{data: append([]byte(nil), buf[:n]...), from: from})
		}
		s.mu.Unlock()
	}
}

// hears reports whether a datagram from is delivered; s.mu must be held.
func (s *udpSocket) hears(from netip.AddrPort) bool {
	switch {
	case s.remote.IsValid():
		return from == s.remote
	case s.listens:
		return true
	}
	return s.peers[from]
}

// readyChan is ready while a datagram waits.
func (s *udpSocket) readyChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// incomingStream and outgoingStream are a udp-socket's datagram streams.
type incomingStream struct {
	tracked
	s *udpSocket
}

type outgoingStream struct {
	tracked
	s *udpSocket
}

func (h *Host) udpFuncs(out map[string]map[string]hostFn, fail func(string) ([]any, error), decide func(context.Context, policy.Network) ([]any, error)) {
	udpRes := h.resource(sockUDP, "udp-socket")
	inRes := h.resource(sockUDP, "incoming-datagram-stream")
	outRes := h.resource(sockUDP, "outgoing-datagram-stream")

	// decideRemote decides sending to ap, by the name a lookup gave it.
	decideRemote := func(ctx context.Context, ns *netState, ap netip.AddrPort) ([]any, error) {
		if ap.Port() == 0 {
			return fail("invalid-argument")
		}
		addr := ap.Addr().Unmap()
		host := ns.nameOf(addr)
		if host == "" {
			host = addr.String()
		}
		if res, err := decide(ctx, policy.Network{Scheme: udpScheme, Host: host, Port: ap.Port()}); res != nil || err != nil {
			return res, err
		}
		return checkLocalAddress(ctx, fail, udpScheme, addr, ap.Port())
	}

	out[sockUDPNew] = map[string]hostFn{
		"create-udp-socket": h.socketCreator("create-udp-socket", udpRes, fail, func(family uint32, release func()) (any, *tracked) {
			s := &udpSocket{family: family, release: release, peers: map[netip.AddrPort]bool{}, ready: make(chan struct{})}
			return s, &s.tracked
		}),
	}

	withSocket := onHandle[*udpSocket]("udp-socket")
	udp := map[string]hostFn{
		"[method]udp-socket.start-bind": withSocket("start-bind", func(ctx context.Context, s *udpSocket, args []any) ([]any, error) {
			ap, family, err := socketAddressArg(args[1])
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			state := s.state
			s.mu.Unlock()
			switch {
			case state != udpUnbound:
				return fail("invalid-state")
			case family != s.family:
				return fail("invalid-argument")
			}
			addr := ap.Addr().Unmap()
			listens := ap.Port() != 0
			if listens {
				if res, err := decide(ctx, policy.Network{Scheme: udpListenScheme, Host: addr.String(), Port: ap.Port()}); res != nil || err != nil {
					return res, err
				}
				if res, err := checkLocalAddress(ctx, fail, udpListenScheme, addr, ap.Port()); res != nil || err != nil {
					return res, err
				}
			}
			network := "udp4"
			if s.family != 0 {
				network = "udp6"
			}
			conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, ap.Port())))
			s.mu.Lock()
			defer s.mu.Unlock()
			s.state, s.bindErr, s.listens = udpBinding, err, listens
			if err == nil {
				s.conn = conn
			}
			return one(okValue(nil))
		}),
		"[method]udp-socket.finish-bind": withSocket("finish-bind", func(_ context.Context, s *udpSocket, _ []any) ([]any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.state != udpBinding {
				return fail("not-in-progress")
			}
			if s.bindErr != nil {
				s.state = udpClosed
				return fail(bindErrorLabel(s.bindErr))
			}
			s.state = udpBound
			return one(okValue(nil))
		}),
		"[method]udp-socket.stream": withSocket("stream", func(ctx context.Context, s *udpSocket, args []any) ([]any, error) {
			opt, err := variantArg(args[0], "udp-socket.stream")
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
			if state != udpBound {
				return fail("invalid-state")
			}
			var remote netip.AddrPort
			if opt.Case == 1 {
				ap, family, err := socketAddressArg(opt.Value)
				if err != nil {
					return nil, err
				}
				if family != s.family {
					return fail("invalid-argument")
				}
				if res, err := decideRemote(ctx, ns, ap); res != nil || err != nil {
					return res, err
				}
				remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			}
			in, outS := &incomingStream{s: s}, &outgoingStream{s: s}
			if err := st.track(&in.tracked, "incoming-datagram-stream", false); err != nil {
				return nil, err
			}
			if err := st.track(&outS.tracked, "outgoing-datagram-stream", false); err != nil {
				_ = in.Close()
				return nil, err
			}
			s.mu.Lock()
			s.remote = remote
			if remote.IsValid() {
				s.peers[remote] = true
			}
			// Datagrams queued from others than the new remote are dropped.
			kept := s.queue[:0]
			for _, d := range s.queue {
				if s.hears(d.from) {
					kept = append(kept, d)
				}
			}
			if len(s.queue) > 0 && len(kept) == 0 {
				s.ready = make(chan struct{})
			}
			s.queue = kept
			if !s.reading {
				s.reading = true
				go s.readLoop()
			}
			s.mu.Unlock()
			return one(okValue([]any{handleValue(inRes, in), handleValue(outRes, outS)}))
		}),
		"[method]udp-socket.local-address": withSocket("local-address", func(_ context.Context, s *udpSocket, _ []any) ([]any, error) {
			s.mu.Lock()
			conn, state := s.conn, s.state
			s.mu.Unlock()
			if state != udpBound || conn == nil {
				return fail("invalid-state")
			}
			return one(okValue(socketAddressValue(s.familyForm(conn.LocalAddr().(*net.UDPAddr).AddrPort()))))
		}),
		"[method]udp-socket.remote-address": withSocket("remote-address", func(_ context.Context, s *udpSocket, _ []any) ([]any, error) {
			s.mu.Lock()
			remote := s.remote
			s.mu.Unlock()
			if !remote.IsValid() {
				return fail("invalid-state")
			}
			return one(okValue(socketAddressValue(s.familyForm(remote))))
		}),
		"[method]udp-socket.address-family": withSocket("address-family", func(_ context.Context, s *udpSocket, _ []any) ([]any, error) {
			return one(types.VariantValue{Case: s.family})
		}),
		// A bind completes within start-bind.
		"[method]udp-socket.subscribe": subscriber(h, "udp-socket.subscribe", func(*udpSocket) <-chan struct{} { return closedChan }),

		"[method]incoming-datagram-stream.receive": func(_ context.Context, args []any) ([]any, error) {
			in, err := hostObject[*incomingStream](args[0], "incoming-datagram-stream.receive")
			if err != nil {
				return nil, err
			}
			max, err := u64Arg(args[1], "incoming-datagram-stream.receive")
			if err != nil {
				return nil, err
			}
			s := in.s
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.state == udpClosed {
				return fail("invalid-state")
			}
			n := uint64(len(s.queue))
			if max < n {
				n = max
			}
			list := make([]any, 0, n)
			for _, d := range s.queue[:n] {
				list = append(list, []any{bytesValue(d.data), socketAddressValue(s.familyForm(d.from))})
			}
			s.queue = s.queue[n:]
			if n > 0 && len(s.queue) == 0 {
				s.ready = make(chan struct{})
			}
			return one(okValue(list))
		},
		"[method]incoming-datagram-stream.subscribe": subscriber(h, "incoming-datagram-stream.subscribe", func(in *incomingStream) <-chan struct{} { return in.s.readyChan() }),
		"[method]outgoing-datagram-stream.check-send": func(_ context.Context, args []any) ([]any, error) {
			o, err := hostObject[*outgoingStream](args[0], "outgoing-datagram-stream.check-send")
			if err != nil {
				return nil, err
			}
			o.s.mu.Lock()
			defer o.s.mu.Unlock()
			o.s.permit = maxSendBatch
			return one(okValue(uint64(maxSendBatch)))
		},
		"[method]outgoing-datagram-stream.send": func(ctx context.Context, args []any) ([]any, error) {
			o, err := hostObject[*outgoingStream](args[0], "outgoing-datagram-stream.send")
			if err != nil {
				return nil, err
			}
			list, ok := args[1].([]any)
			if !ok {
				return nil, fmt.Errorf("wasi: outgoing-datagram-stream.send: expected a list, got %T (a bug in the runtime)", args[1])
			}
			ns, err := h.netState(ctx)
			if err != nil {
				return nil, err
			}
			s := o.s
			s.mu.Lock()
			permit, remote, conn, state := s.permit, s.remote, s.conn, s.state
			if uint64(len(list)) <= permit {
				s.permit -= uint64(len(list))
			}
			s.mu.Unlock()
			if uint64(len(list)) > permit {
				return nil, fmt.Errorf("wasi: outgoing-datagram-stream.send: %d datagrams, but check-send permitted %d (the guest must call check-send first)", len(list), permit)
			}
			if state != udpBound || conn == nil {
				return fail("invalid-state")
			}
			// stop ends the send at datagram i: with label when it is the
			// first, else with how many were sent before it.
			stop := func(i int, label string) ([]any, error) {
				if i == 0 {
					return fail(label)
				}
				return one(okValue(uint64(i)))
			}
			for i, item := range list {
				data, to, err := outgoingDatagramArg(item)
				if err != nil {
					return nil, err
				}
				if to.IsValid() {
					to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
				}
				switch {
				case len(data) > maxDatagram:
					return stop(i, "datagram-too-large")
				case to.IsValid() && remote.IsValid() && to != remote:
					return stop(i, "invalid-argument")
				case !to.IsValid() && !remote.IsValid():
					return stop(i, "invalid-argument")
				case !to.IsValid():
					to = remote
				}
				if res, err := decideRemote(ctx, ns, to); res != nil || err != nil {
					if i == 0 || err != nil {
						return res, err
					}
					return one(okValue(uint64(i)))
				}
				s.mu.Lock()
				s.peers[to] = true
				s.mu.Unlock()
				dest := to
				if s.family != 0 {
					dest = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
				}
				if _, err := conn.WriteToUDPAddrPort(data, dest); err != nil {
					return stop(i, sendErrorLabel(err))
				}
			}
			return one(okValue(uint64(len(list))))
		},
		"[method]outgoing-datagram-stream.subscribe": subscriber(h, "outgoing-datagram-stream.subscribe", func(*outgoingStream) <-chan struct{} { return closedChan }),
	}
	for name, fn := range h.denyAll(sockUDP, "not-supported") {
		if udp[name] == nil {
			udp[name] = fn
		}
	}
	out[sockUDP] = udp
}

// familyForm writes ap as the socket's family does: IPv4 for an IPv4
// socket, IPv4-mapped for an IPv6 one.
func (s *udpSocket) familyForm(ap netip.AddrPort) netip.AddrPort {
	if s.family == 0 {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
}

// outgoingDatagramArg reads an outgoing-datagram record.
func outgoingDatagramArg(arg any) ([]byte, netip.AddrPort, error) {
	rec, ok := arg.([]any)
	if !ok || len(rec) != 2 {
		return nil, netip.AddrPort{}, fmt.Errorf("wasi: outgoing-datagram-stream.send: malformed outgoing-datagram %#v (a bug in the runtime)", arg)
	}
	data, err := bytesArg(rec[0], "outgoing-datagram-stream.send")
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	opt, ok := rec[1].(types.VariantValue)
	if !ok {
		return nil, netip.AddrPort{}, fmt.Errorf("wasi: outgoing-datagram-stream.send: malformed remote-address %#v (a bug in the runtime)", rec[1])
	}
	if opt.Case == 0 {
		return data, netip.AddrPort{}, nil
	}
	ap, _, err := socketAddressArg(opt.Value)
	return data, ap, err
}

// sendErrorLabel is the error-code of a failed send.
func sendErrorLabel(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection-refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "remote-unreachable"
	case errors.Is(err, syscall.EMSGSIZE):
		return "datagram-too-large"
	}
	return "unknown"
}
