// Package mcpbridge is Tapedeck's MCP face: a Server that offers Wassette's
// twelve built-in tools plus one tool per component export, and serves them
// over stdio, the owner's local socket and streamable HTTP on loopback.
//
// The Server talks to the sandbox only through Backend (which *sandbox.Host
// implements). Every call carries the calling client's identity — the name
// it claims in initialize and, where the transport can tell, the real
// process behind the connection — so the Host can show a person who asks.
//
//	srv := mcpbridge.New(host, mcpbridge.Options{Version: version.String()})
//	defer srv.Close()
//	ln, err := mcpbridge.ListenSocket(paths.SocketPath(dirs), lock)
//	…
//	err = srv.ServeSocket(ctx, ln)
//
// The `tapedeck mcp` relay that editors launch lives in mcpbridge/relay.
package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/sandbox"
)

// Backend is what the MCP server needs from the sandbox; *sandbox.Host
// implements it. Every method may be called from many goroutines at once.
type Backend interface {
	Tools() []sandbox.ToolInfo
	Call(ctx context.Context, req sandbox.CallRequest) (*sandbox.CallResult, error)
	Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error)
	Unload(ctx context.Context, id string, by sandbox.Client) error
	List() []sandbox.ComponentInfo
	Policy(id string) (*sandbox.PolicyInfo, error)
	Grant(ctx context.Context, id string, p sandbox.Permission, by sandbox.Client) error
	Revoke(ctx context.Context, id string, p sandbox.Permission, by sandbox.Client) error
	Reset(ctx context.Context, id string, by sandbox.Client) error
	// Subscribe streams the Host's events until ctx is done, then closes
	// the channel.
	Subscribe(ctx context.Context) <-chan sandbox.Event
}

// CatalogEntry is one component the search-components tool can find.
type CatalogEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	URI         string `json:"uri"`
}

// Options configure a Server. The zero value serves with no catalog and
// logs nothing.
type Options struct {
	// Version is Tapedeck's version, reported in initialize and /health.
	Version string
	// Catalog is what search-components searches.
	Catalog []CatalogEntry
	// TrustBundledPolicy is passed on to every load an agent asks for
	// (serve --trust-bundled-policy).
	TrustBundledPolicy bool
	// Logger receives the server's own diagnostics; nil discards them.
	Logger *slog.Logger
	// OnHandover, when set, is called once when another process of this
	// user asks on the socket to take ownership (HandoverMethod); taker is
	// the pid it gave (0 from an older one). It should record taker as the
	// successor (ownerlock.Lock.HandingOver, so relays wait for it rather
	// than start another owner), stop accepting (close the socket
	// listener: ServeSocket keeps its sessions), Drain, then end serving
	// and release the owner lock.
	OnHandover func(taker int)
}

// Server is the MCP server. Create it with New; it serves any number of
// sessions on any number of transports at once, all sharing one Backend.
// Close stops it.
type Server struct {
	backend Backend
	opts    Options
	logger  *slog.Logger
	mcp     *mcp.Server

	// syncMu serialises syncTools so two events never race to add and
	// remove the same tool.
	syncMu sync.Mutex

	mu sync.Mutex
	// components are the component tools registered with the MCP server;
	// toolsGen counts changes to them.
	components map[string]*componentTool
	toolsGen   uint64
	// listChangedSent counts tools/list_changed notifications sent per
	// session, so load-component can wait for its own to leave first.
	listChangedSent map[*mcp.ServerSession]uint64
	listChangedCond *sync.Cond

	// parked are the component calls running, by RequestState token; a
	// call that asked a question waits here for the retry with the answer.
	parkMu sync.Mutex
	parked map[string]*parkedCall

	stop    context.CancelFunc
	watcher sync.WaitGroup
	calls   sync.WaitGroup // in-flight tool calls and handlers, for a graceful hand-over
	// answers follows the socket sessions' requests until their answers
	// are written, so a hand-over loses none.
	answers *answers
}

// New returns a Server for backend and starts following the backend's
// events (tool list changes, log messages). Call Close to stop.
func New(backend Backend, opts Options) *Server {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{
		backend:         backend,
		opts:            opts,
		logger:          logger,
		components:      map[string]*componentTool{},
		listChangedSent: map[*mcp.ServerSession]uint64{},
		answers:         newAnswers(),
		parked:          map[string]*parkedCall{},
	}
	s.listChangedCond = sync.NewCond(&s.mu)
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "tapedeck", Title: "Tapedeck", Version: opts.Version}, &mcp.ServerOptions{
		Logger: logger,
		Instructions: "Tapedeck runs MCP tools as sandboxed WebAssembly components. " +
			"Use load-component to add one, list-components to see what is loaded; " +
			"a component reaches nothing unless its policy or the person allows it.",
		Capabilities: &mcp.ServerCapabilities{
			Logging: &mcp.LoggingCapabilities{},
			Tools:   &mcp.ToolCapabilities{ListChanged: true},
		},
	})
	s.mcp.AddSendingMiddleware(s.countListChanged)
	s.mcp.AddReceivingMiddleware(s.legacyRounds)
	if opts.OnHandover != nil {
		s.addHandover(opts.OnHandover)
	}
	s.addBuiltins()
	s.syncTools()

	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	events := backend.Subscribe(ctx)
	s.watcher.Add(1)
	go func() {
		defer s.watcher.Done()
		s.follow(ctx, events)
	}()
	return s
}

// Close stops following the backend, cancels the component calls waiting
// for an answer, and closes every session. It does not wait for calls in
// flight; see Drain.
func (s *Server) Close() error {
	s.stop()
	s.watcher.Wait()
	s.cancelParked(func(*parkedCall) bool { return true })
	for ss := range s.mcp.Sessions() {
		ss.Close()
	}
	return nil
}

// Drain waits until no tool call is running and every request read on
// the socket has its answer written, or ctx is done, for a graceful
// hand-over: stop accepting new connections first.
func (s *Server) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("waiting for tool calls to finish: %w", ctx.Err())
	}
	if err := s.answers.wait(ctx); err != nil {
		return fmt.Errorf("waiting for answers to be written: %w", err)
	}
	return nil
}

// Connect serves one MCP session over t, for a client whose transport-level
// identity is peer (Name and Version are filled in from initialize). It
// returns once the session is set up; the session runs until the client
// goes away or ctx is done. The app and tests use it with in-memory
// transports.
func (s *Server) Connect(ctx context.Context, t mcp.Transport, peer sandbox.Client) (*mcp.ServerSession, error) {
	ctx = context.WithValue(ctx, peerKey{}, peer)
	ss, err := s.mcp.Connect(ctx, t, nil)
	if err != nil {
		return nil, fmt.Errorf("starting an MCP session: %w", err)
	}
	return ss, nil
}

// serveSession runs one session to its end.
func (s *Server) serveSession(ctx context.Context, t mcp.Transport, peer sandbox.Client) error {
	ss, err := s.Connect(ctx, t, peer)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ss.Close() })
	defer stop()
	err = ss.Wait()
	s.forget(ss)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, mcp.ErrConnectionClosed) {
		return err
	}
	return nil
}

// RunStdio serves one session over in and out (newline-delimited JSON-RPC)
// until the client closes in or ctx is done. `tapedeck serve --stdio` uses
// it with the process's own streams.
func (s *Server) RunStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	r, w := guardStream(io.NopCloser(in), nopWriteCloser{out}, nil)
	return s.serveSession(ctx, &mcp.IOTransport{Reader: r, Writer: w}, sandbox.Client{Transport: "stdio"})
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// peerKey carries the transport's view of the client (sandbox.Client
// without Name and Version) in the session's context.
type peerKey struct{}

// clientOf returns the identity of the client behind a request: what the
// transport knows of the peer, and the name the client claims (in
// initialize, or in each request's _meta on the 2026-07-28 protocol).
func clientOf(ctx context.Context, req *mcp.CallToolRequest) sandbox.Client {
	c, _ := ctx.Value(peerKey{}).(sandbox.Client)
	if c.Transport == "" {
		c.Transport = "http" // the streamable HTTP handler connects sessions itself
	}
	c.Name, c.Version = clientInfo(req)
	return c
}

// clientInfo returns the name and version the client gives for itself. The
// common shape on the 2026-07-28 protocol — clientInfo in the request's
// _meta, arrived as a JSON object with string name and version — is read
// directly: req.ClientInfo re-encodes and decodes it on every call, tens of
// microseconds and kilobytes per tools/call. Anything else goes to
// req.ClientInfo (the session's initialize on older protocols).
func clientInfo(req *mcp.CallToolRequest) (name, version string) {
	if req.Params != nil {
		if v, ok := req.Params.Meta[mcp.MetaKeyClientInfo].(map[string]any); ok {
			name, nameOK := v["name"].(string)
			version, versionOK := v["version"].(string)
			if nameOK && versionOK {
				return name, version
			}
		}
	}
	if info := req.ClientInfo(); info != nil {
		return info.Name, info.Version
	}
	return "", ""
}

// legacySession reports whether req's session speaks a protocol before
// 2026-07-28, where notifications share the session's stream (and so can
// be ordered before a reply) and the server may send requests.
func legacySession(req *mcp.CallToolRequest) bool {
	return req.Session != nil && req.ProtocolVersion() < "2026-07-28"
}

// countListChanged notes every tools/list_changed sent to a session.
func (s *Server) countListChanged(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		if method == "notifications/tools/list_changed" {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				s.mu.Lock()
				s.listChangedSent[ss]++
				s.listChangedCond.Broadcast()
				s.mu.Unlock()
			}
		}
		return res, err
	}
}

// listChangedCount returns how many tools/list_changed ss has been sent.
func (s *Server) listChangedCount(ss *mcp.ServerSession) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listChangedSent[ss]
}

// awaitListChanged waits until req's session has been sent more than seen
// notifications, so that a load reply follows its list_changed as
// Wassette's clients expect. The SDK debounces the notification by a few
// milliseconds; the bound only matters if the session goes away meanwhile.
// Sessions on the 2026-07-28 protocol get list_changed on their own
// subscription stream, if they opened one, so there is no order to keep.
func (s *Server) awaitListChanged(ctx context.Context, req *mcp.CallToolRequest, seen uint64) {
	if !legacySession(req) {
		return
	}
	ss := req.Session
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.listChangedCond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.listChangedSent[ss] <= seen && ctx.Err() == nil {
		s.listChangedCond.Wait()
	}
}

// forget drops what the server kept about a finished session, and cancels
// its calls still waiting for an answer.
func (s *Server) forget(ss *mcp.ServerSession) {
	s.mu.Lock()
	delete(s.listChangedSent, ss)
	s.mu.Unlock()
	s.cancelParked(func(pc *parkedCall) bool { return pc.owner.session == ss })
}

// follow turns backend events into tool list changes and log messages.
func (s *Server) follow(ctx context.Context, events <-chan sandbox.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch ev.Kind {
			case sandbox.EventLoaded, sandbox.EventUnloaded, sandbox.EventReady, sandbox.EventFailed,
				sandbox.EventCompiling, sandbox.EventPolicyChanged:
				s.syncTools()
			}
			s.logEvent(ctx, ev)
		}
	}
}

// logEvent sends ev to every session as an MCP log message, at a level
// that fits it; the SDK drops it for sessions that asked for less.
func (s *Server) logEvent(ctx context.Context, ev sandbox.Event) {
	level, ok := eventLevel(ev)
	if !ok {
		return
	}
	data := map[string]any{"event": string(ev.Kind)}
	for k, v := range map[string]string{"component": ev.Component, "tool": ev.Tool, "access": ev.Access, "answer": ev.Answer, "detail": ev.Detail} {
		if v != "" {
			data[k] = v
		}
	}
	if ev.Client != nil {
		data["client"] = ev.Client.String()
	}
	for ss := range s.mcp.Sessions() {
		if err := ss.Log(ctx, &mcp.LoggingMessageParams{Level: level, Logger: "tapedeck", Data: data}); err != nil {
			s.logger.Debug("sending a log message", "error", err)
		}
	}
}

// eventLevel maps a Host event to an MCP log level; ok is false for events
// not worth a client's attention.
func eventLevel(ev sandbox.Event) (mcp.LoggingLevel, bool) {
	switch ev.Kind {
	case sandbox.EventFailed:
		return "error", true
	case sandbox.EventDenied:
		return "warning", true
	case sandbox.EventAsked, sandbox.EventAllowed, sandbox.EventPolicyChanged, sandbox.EventPaused, sandbox.EventResumed:
		return "notice", true
	case sandbox.EventLoaded, sandbox.EventUnloaded, sandbox.EventReady, sandbox.EventCompiling:
		return "info", true
	case sandbox.EventCallStarted, sandbox.EventCallFinished:
		if ev.IsError {
			return "warning", true
		}
		return "debug", true
	}
	return "", false
}

// syncTools makes the MCP server's component tools match the backend's,
// and reports whether anything changed. The SDK sends tools/list_changed
// to every session after a change.
func (s *Server) syncTools() bool {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	want := map[string]*componentTool{}
	for _, info := range s.backend.Tools() {
		if isBuiltin(info.Name) {
			// The Host renames colliding tools; this is the last guard.
			s.logger.Warn("component tool hidden: its name is a built-in tool's", "tool", info.Name, "component", info.Component)
			continue
		}
		if info.Unavailable != "" {
			continue // not callable with JSON: listing it would only mislead
		}
		if _, dup := want[info.Name]; dup {
			s.logger.Warn("component tool hidden: another component has the same name", "tool", info.Name, "component", info.Component)
			continue
		}
		ct, err := newComponentTool(info)
		if err != nil {
			s.logger.Warn("component tool hidden: its schema is unusable", "tool", info.Name, "component", info.Component, "error", err)
			continue
		}
		want[info.Name] = ct
	}
	s.mu.Lock()
	have := maps.Clone(s.components)
	s.components = want
	s.mu.Unlock()

	var removed []string
	for name := range have {
		if _, ok := want[name]; !ok {
			removed = append(removed, name)
		}
	}
	slices.Sort(removed)
	if len(removed) > 0 {
		s.mcp.RemoveTools(removed...)
	}
	changed := len(removed) > 0
	for _, name := range slices.Sorted(maps.Keys(want)) {
		ct := want[name]
		if old, ok := have[name]; ok && old.sameAs(ct) {
			continue
		}
		s.mcp.AddTool(ct.mcpTool(), s.componentHandler(name))
		changed = true
	}
	if changed {
		s.mu.Lock()
		s.toolsGen++
		s.mu.Unlock()
		s.pruneSessions()
	}
	return changed
}

// toolsGeneration returns a number that changes whenever the component
// tools do.
func (s *Server) toolsGeneration() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.toolsGen
}

// pruneSessions forgets sessions that ended without telling us (the HTTP
// handler closes its sessions itself).
func (s *Server) pruneSessions() {
	live := map[*mcp.ServerSession]bool{}
	for ss := range s.mcp.Sessions() {
		live[ss] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ss := range s.listChangedSent {
		if !live[ss] {
			delete(s.listChangedSent, ss)
		}
	}
}

// componentTool returns the registered tool called name.
func (s *Server) componentTool(name string) (*componentTool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ct, ok := s.components[name]
	return ct, ok
}

// componentHandler calls the component tool name through the backend. A
// call that asks the person a question through the client is answered with
// the question (an input-required result) and keeps running; the retry
// carrying the answer (RequestState set) resumes it. See elicit.go.
func (s *Server) componentHandler(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		s.calls.Add(1)
		defer s.calls.Done()
		if req.Params.RequestState != "" {
			return s.resume(ctx, name, req)
		}
		ct, ok := s.componentTool(name)
		if !ok {
			return errorResult(fmt.Sprintf("tool %s was unloaded; call tools/list for the current tools", name)), nil
		}
		args, err := ct.checkArgs(req.Params.Arguments)
		if err != nil {
			return errorResult(fmt.Sprintf("arguments for %s rejected: %v; the tool's inputSchema in tools/list says what it takes", name, err)), nil
		}
		pc, err := s.startCall(ctx, req, sandbox.CallRequest{
			Tool:   name,
			Args:   args,
			Client: clientOf(ctx, req),
		})
		if err != nil {
			return errorResult(fmt.Sprintf("calling %s: %v", name, err)), nil
		}
		return s.await(ctx, pc)
	}
}

// errorResult is a tool result that reports a failure in words.
func errorResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}, IsError: true}
}

// jsonResult is a built-in tool's reply: the JSON in one text item, and
// the same object as structuredContent.
func jsonResult(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the reply: %w", err)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(b)}},
		StructuredContent: json.RawMessage(b),
	}, nil
}
