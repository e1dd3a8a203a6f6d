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
//	filesystem.go  wasi:filesystem/types and preopens: no preopens, every operation denied
//	sockets.go     wasi:sockets/*: creating a socket and resolving a name are denied
//	http.go        wasi:http/types (requests can be built) and outgoing-handler (denied)
//	store.go       wasi:config/store: served from Config.Store, empty by default
//	host.go        Config, Limits, Host, the per-instance state and its caps
//
// # Deny by default
//
// Nothing here reaches outside the process: there are no preopened
// directories, no sockets and no HTTP; the environment and the config store
// are empty unless Config fills them. A guest that asks gets the WASI error
// code for "access denied" of each interface, never a trap. (Methods of
// objects this host never creates, such as a TCP socket or an incoming HTTP
// response, trap as unreachable: the runtime cannot hand the guest one.)
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
