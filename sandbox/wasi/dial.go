package wasi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component"
)

// Dialling, shared by wasi:http and wasi:sockets. A connection is made in
// three steps, always in this order:
//
//  1. the name (or IP literal) and port are decided by the call's
//     access.Checker, before anything is resolved, so a refused name never
//     reaches a DNS server;
//  2. the name is resolved by Config.Resolver;
//  3. every address is re-checked with CheckAddress (loopback, private,
//     link-local… are refused unless the policy names them), and only a
//     checked address is dialled — the dialler's Control hook refuses any
//     other, so nothing in between can swap the address.

// Resolver resolves host names. *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func (h *Host) resolver() Resolver {
	if h.cfg.Resolver != nil {
		return h.cfg.Resolver
	}
	return net.DefaultResolver
}

// maxRememberedNames caps how many looked-up addresses one instance
// remembers the names of (see netState.names).
const maxRememberedNames = 4096

// netState is what the network providers keep per instance.
type netState struct {
	limit int // Limits.MaxConnections

	mu    sync.Mutex
	conns int // HTTP requests in flight and TCP sockets open
	// names maps the addresses wasi:sockets lookups returned to the name
	// that was looked up, so a connect to such an address is decided as the
	// name the guest asked for (the policy names hosts, not their addresses).
	names map[netip.Addr]string
}

type netStateKey struct{ h *Host }

func (h *Host) netState(ctx context.Context) (*netState, error) {
	inst := component.InstanceFromContext(ctx)
	if inst == nil {
		return nil, fmt.Errorf("wasi: network function called outside a component instance (a bug in the runtime: every call's ctx must carry its Instance)")
	}
	return inst.HostState(netStateKey{h}, func() any {
		return &netState{limit: h.cfg.Limits.MaxConnections, names: map[netip.Addr]string{}}
	}).(*netState), nil
}

// acquire takes a connection slot; release, which it returns, gives it
// back and is safe to call more than once. ok is false at the limit.
func (ns *netState) acquire() (release func(), ok bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.conns >= ns.limit {
		return nil, false
	}
	ns.conns++
	var once sync.Once
	return func() {
		once.Do(func() {
			ns.mu.Lock()
			ns.conns--
			ns.mu.Unlock()
		})
	}, true
}

func (ns *netState) remember(name string, addrs []netip.Addr) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, a := range addrs {
		if len(ns.names) >= maxRememberedNames {
			return
		}
		ns.names[a.Unmap()] = name
	}
}

func (ns *netState) nameOf(addr netip.Addr) string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.names[addr.Unmap()]
}

// addressDeniedError is a dial refused because every address the name led
// to was refused by CheckAddress.
type addressDeniedError struct{ denied *access.DeniedError }

func (e *addressDeniedError) Error() string { return e.denied.Error() }
func (e *addressDeniedError) Unwrap() error { return e.denied }

// dialDecided connects to host:port over TCP for a connection whose name
// the checker already allowed (step 1 above is the caller's): it resolves
// host unless it is an IP literal, re-checks each address and dials the
// first one that is allowed and answers. scheme is the one the name was
// decided under ("http", "https", "tcp").
func (h *Host) dialDecided(ctx context.Context, checker access.Checker, scheme, host string, port uint16, timeout time.Duration) (net.Conn, error) {
	var addrs []netip.Addr
	if addr, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{addr}
	} else {
		lookupCtx, cancel := context.WithTimeout(ctx, timeout)
		addrs, err = h.resolver().LookupNetIP(lookupCtx, "ip", host)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	var firstDenied *access.DeniedError
	var lastErr error
	for _, addr := range addrs {
		addr = addr.Unmap()
		if err := checker.CheckAddress(ctx, scheme, addr, port); err != nil {
			var d *access.DeniedError
			if !errors.As(err, &d) {
				return nil, err // the call ended
			}
			if firstDenied == nil {
				firstDenied = d
			}
			continue
		}
		conn, err := dialExactly(ctx, netip.AddrPortFrom(addr, port), timeout)
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, &addressDeniedError{denied: firstDenied}
}

// dialExactly dials ap and nothing else: the Control hook sees the address
// the socket is about to connect to and refuses any other.
func dialExactly(ctx context.Context, ap netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{
		Timeout: timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			got, err := netip.ParseAddrPort(address)
			if err != nil || got.Addr().Unmap() != ap.Addr() || got.Port() != ap.Port() {
				return fmt.Errorf("wasi: refusing to connect to %s: the checked address was %s", address, ap)
			}
			return nil
		},
	}
	return d.DialContext(ctx, "tcp", ap.String())
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}
