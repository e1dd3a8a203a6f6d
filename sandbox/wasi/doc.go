// Package wasi is Tapedeck's WASI 0.2 host: the host interfaces a component
// built by a WASI 0.2 toolchain imports, served to package component.
//
// Usage: build a Host from a Config once, register its interfaces, and after
// each call read what the guest printed:
//
//	host := wasi.New(wasi.Config{OutputLog: logLine})
//	reg := component.NewRegistry()
//	host.Register(reg)
//	… run a call on inst …
//	out := host.Output(inst) // out.Stdout, out.Stderr
//
// # What lives where
//
// The types come from WIT: wit/*.wit holds the interface definitions of
// WASI 0.2.12 (and wasi:config/store@0.2.0-draft), transcribed from the
// WebAssembly/WASI and WebAssembly/wasi-config repositories and embedded;
// internal/wit parses them into *types.Func values, so every function of every
// interface has its exact type and a resource such as wasi:io/poll's pollable
// is one *types.Resource wherever it is used. The Go code implements them:
//
//	io.go          wasi:io/error, poll (a blocking poll) and streams
//	clocks.go      wasi:clocks/wall-clock and monotonic-clock
//	random.go      wasi:random/random, insecure, insecure-seed
//	cli.go         wasi:cli: environment, exit, stdin/stdout/stderr, terminal-*
//	filesystem.go  wasi:filesystem/types and preopens: the host's files under one
//	               preopen "/", every path decided by the call's access.Checker
//	               (unix; filesystem_other.go denies everything elsewhere)
//	fsresolve_unix.go  walking a guest path to the real path decided on
//	sockets.go     wasi:sockets/*: TCP connect and name lookup decided by the
//	               checker
//	listen.go      TCP bind, listen and accept, decided as tcp-listen://addr:port
//	udp.go         UDP, each remote decided as udp://host:port, binds to a
//	               named port as udp-listen://addr:port
//	http.go        wasi:http/types: fields, outgoing requests and responses, options
//	http_send.go   wasi:http/outgoing-handler and the incoming side it returns
//	authority.go   the strict parse of a request's authority and Host header
//	dial.go        decide the name, resolve it, re-check each address, dial it
//	pipe.go        the streams behind a response body and a TCP connection
//	store.go       wasi:config/store: served from Config.Store, empty by default
//	host.go        Config, Limits, Host, the per-instance state and its caps
//
// # Deny by default
//
// Nothing here reaches outside the process unless the call's access.Checker
// (package access) allows it: a file is read or written only when the
// checker allows its real path, and with no checker in the call's context
// every path is denied. A connection (wasi:http or wasi:sockets) is made
// only when the checker allows its scheme, host and port, decided before the
// name is resolved, and then each address it resolves to (CheckAddress), so
// a name cannot lead to loopback, private or link-local addresses the policy
// does not name; no proxy from the environment is used and no redirect is
// followed. The environment and the config store are empty unless Config
// fills them. A guest that asks gets the WASI error
// code for "access denied" of each interface, never a trap. (Methods of
// objects this host never creates, such as a UDP socket or an incoming HTTP
// request, trap as unreachable: the runtime cannot hand the guest one.)
//
// The policy-driven host (issue 3) replaces the deny providers file by file
// (filesystem.go, sockets.go, outgoing-handler in http.go) and fills
// Config.Environment and Config.Store; the WIT types, the resource objects
// and the stream plumbing of io.go (an inputSource or outputSink behind every
// stream, a channel behind every pollable) stay as they are.
//
// # Per-instance state and limits
//
// Streams, pollables and other resources belong to the component instance
// that created them (component.Instance.HostState). Every cap on what a guest
// can make the host hold (open handles, pending pollables, bytes of random
// data, bytes per stream read, captured stdout and stderr) is in Limits; a
// request past a cap that the WASI specification lets the host shorten is
// shortened (a stream read returns fewer bytes), otherwise the call traps with
// a *LimitError naming the limit.
package wasi
