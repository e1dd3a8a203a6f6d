package wasi

import (
	"context"
	"strings"
)

// wasi:sockets — the instance's network handle exists, but creating a TCP or
// UDP socket and resolving a name return error-code access-denied. Socket
// and lookup-stream methods are typed; those returning an error-code deny,
// and the rest trap as unreachable, because no such object is ever created.

type network struct{ tracked }

func (h *Host) socketsFuncs() map[string]map[string]hostFn {
	out := map[string]map[string]hostFn{}
	for _, iface := range []string{
		"wasi:sockets/ip-name-lookup", "wasi:sockets/tcp", "wasi:sockets/tcp-create-socket",
		"wasi:sockets/udp", "wasi:sockets/udp-create-socket",
	} {
		out[iface] = h.denyAll(iface, "access-denied")
	}
	h.unreachableMethods(out["wasi:sockets/ip-name-lookup"], "wasi:sockets/ip-name-lookup", "resolve-address-stream")
	h.unreachableMethods(out["wasi:sockets/tcp"], "wasi:sockets/tcp", "tcp-socket")
	h.unreachableMethods(out["wasi:sockets/udp"], "wasi:sockets/udp", "udp-socket", "incoming-datagram-stream", "outgoing-datagram-stream")

	out["wasi:sockets/network"] = map[string]hostFn{
		// No error this host reports comes from a socket.
		"network-error-code": func(context.Context, []any) ([]any, error) { return one(noneValue) },
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
	return out
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
