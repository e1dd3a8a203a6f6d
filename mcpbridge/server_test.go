package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/sandbox"
)

// protocols are the protocol generations every session test runs on: the
// 2026-07-28 stateless protocol (the go-sdk client's default) and the
// initialize handshake editors use today.
var protocols = []struct{ name, version string }{
	{"stateless", "2026-07-28"},
	{"legacy", "2025-11-25"},
}

// session is a connected test client and what it was sent.
type session struct {
	*mcp.ClientSession
	listChanged chan struct{}
	progress    chan *mcp.ProgressNotificationParams
	logs        chan *mcp.LoggingMessageParams
}

// newServer returns a Server over fb, closed when the test ends.
func newServer(t testing.TB, fb *fakeBackend, opts Options) *Server {
	t.Helper()
	srv := New(fb, opts)
	t.Cleanup(func() { srv.Close() })
	return srv
}

// connect opens an in-memory session to srv on the given protocol
// version; opts may set handlers (elicitation).
func connect(t testing.TB, srv *Server, version string, opts *mcp.ClientOptions) *session {
	t.Helper()
	s := &session{
		listChanged: make(chan struct{}, 16),
		progress:    make(chan *mcp.ProgressNotificationParams, 16),
		logs:        make(chan *mcp.LoggingMessageParams, 16),
	}
	if opts == nil {
		opts = &mcp.ClientOptions{}
	}
	opts.ToolListChangedHandler = func(context.Context, *mcp.ToolListChangedRequest) { s.listChanged <- struct{}{} }
	opts.ProgressNotificationHandler = func(_ context.Context, r *mcp.ProgressNotificationClientRequest) { s.progress <- r.Params }
	opts.LoggingMessageHandler = func(_ context.Context, r *mcp.LoggingMessageRequest) { s.logs <- r.Params }
	ct, st := mcp.NewInMemoryTransports()
	if _, err := srv.Connect(t.Context(), st, sandbox.Client{Transport: "memory", PID: 42}); err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1.2.3"}, opts)
	cs, err := client.Connect(t.Context(), ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	s.ClientSession = cs
	return s
}

// call calls a tool and fails the test on a protocol error.
func (s *session) call(t testing.TB, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("calling %s: %v", name, err)
	}
	return res
}

// toolNames lists the session's tools.
func (s *session) toolNames(t testing.TB) []string {
	t.Helper()
	var names []string
	for tool, err := range s.Tools(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	return names
}

// text returns a result's one text item.
func text(t testing.TB, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("result has %d content items, want 1: %+v", len(res.Content), res.Content)
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

// reply decodes a built-in's JSON reply and checks the text and the
// structuredContent agree.
func reply(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool failed: %s", text(t, res))
	}
	var fromText, fromStructured map[string]any
	if err := json.Unmarshal([]byte(text(t, res)), &fromText); err != nil {
		t.Fatalf("reply text is not JSON: %v", err)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fromStructured); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fromText) != fmt.Sprint(fromStructured) {
		t.Errorf("text and structuredContent differ:\n%v\n%v", fromText, fromStructured)
	}
	return fromText
}

// wait receives from ch or fails when the test's context ends (a hang
// guard, not a timing assertion).
func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-t.Context().Done():
		t.Fatalf("never got %s", what)
		panic("unreachable")
	}
}

var builtinNames = []string{
	"get-policy", "grant-environment-variable-permission", "grant-network-permission", "grant-storage-permission",
	"list-components", "load-component", "reset-permission", "revoke-environment-variable-permission",
	"revoke-network-permission", "revoke-storage-permission", "search-components", "unload-component",
}

func TestListTools(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			srv := newServer(t, fb, Options{})
			s := connect(t, srv, p.version, nil)

			got := s.toolNames(t)
			slices.Sort(got)
			if !slices.Equal(got, builtinNames) {
				t.Errorf("tools before a load:\n got %v\nwant %v", got, builtinNames)
			}

			s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})
			got = s.toolNames(t)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(append(slices.Clone(builtinNames), "ask", "block", "echo", "fail")))
			if !slices.Equal(got, want) {
				t.Errorf("tools after a load:\n got %v\nwant %v (resource-only hidden, load-component not shadowed)", got, want)
			}
			for tool, err := range s.Tools(t.Context(), nil) {
				if err != nil {
					t.Fatal(err)
				}
				if tool.Name == "load-component" && !strings.Contains(tool.Description, "WebAssembly") {
					t.Errorf("the component's load-component shadowed the built-in: %q", tool.Description)
				}
				if tool.Name == "echo" && (tool.OutputSchema == nil || tool.Annotations == nil || tool.Annotations.ReadOnlyHint) {
					t.Errorf("echo: want an output schema and conservative annotations, got %+v", tool)
				}
			}
		})
	}
}

func TestBuiltinReplies(t *testing.T) {
	fb := newFakeBackend()
	srv := newServer(t, fb, Options{Catalog: []CatalogEntry{
		{Name: "fetch", Description: "Fetch a web page", URI: "oci://ghcr.io/x/fetch:1"},
		{Name: "time", Description: "Tell the time", URI: "oci://ghcr.io/x/time:1"},
	}})
	s := connect(t, srv, "2025-11-25", nil)
	s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})

	tests := []struct {
		name string
		tool string
		args map[string]any
		want map[string]any // fields the reply must have
	}{
		{"reload", "load-component", map[string]any{"path": "file:///tmp/echo.wasm"},
			map[string]any{"status": "component reloaded successfully", "id": "echo"}},
		{"list", "list-components", map[string]any{}, map[string]any{"total": 1.0}},
		{"search", "search-components", map[string]any{"query": "fetch"}, map[string]any{"status": "Component list found"}},
		{"policyNone", "get-policy", map[string]any{"component_id": "echo"}, map[string]any{"status": "no policy found", "component_id": "echo"}},
		{"grantStorage", "grant-storage-permission",
			map[string]any{"component_id": "echo", "details": map[string]any{"uri": "fs:///tmp/**", "access": []string{"read"}}},
			map[string]any{"status": "permission granted successfully", "permission_type": "storage"}},
		{"grantNetwork", "grant-network-permission",
			map[string]any{"component_id": "echo", "details": map[string]any{"host": "api.example.com"}},
			map[string]any{"status": "permission granted successfully", "permission_type": "network"}},
		{"grantEnv", "grant-environment-variable-permission",
			map[string]any{"component_id": "echo", "details": map[string]any{"key": "API_KEY"}},
			map[string]any{"status": "permission granted successfully", "permission_type": "environment variable"}},
		{"policyFound", "get-policy", map[string]any{"component_id": "echo"}, map[string]any{"status": "policy found"}},
		{"revokeStorage", "revoke-storage-permission",
			map[string]any{"component_id": "echo", "details": map[string]any{"uri": "fs:///tmp/**"}},
			map[string]any{"status": "permission revoked successfully", "permission_type": "storage"}},
		{"revokeNetwork", "revoke-network-permission",
			map[string]any{"component_id": "echo", "details": map[string]any{"host": "api.example.com"}},
			map[string]any{"status": "permission revoked successfully", "permission_type": "network"}},
		{"revokeEnv", "revoke-environment-variable-permission",
			map[string]any{"component_id": "echo", "details": map[string]any{"key": "API_KEY"}},
			map[string]any{"status": "permission revoked successfully", "permission_type": "environment variable"}},
		{"reset", "reset-permission", map[string]any{"component_id": "echo"},
			map[string]any{"status": "permissions reset successfully", "component_id": "echo"}},
		{"unload", "unload-component", map[string]any{"id": "echo"},
			map[string]any{"status": "component unloaded successfully", "id": "echo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reply(t, s.call(t, tt.tool, tt.args))
			for k, v := range tt.want {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v (reply %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestBuiltinShapes(t *testing.T) {
	fb := newFakeBackend()
	srv := newServer(t, fb, Options{Catalog: []CatalogEntry{{Name: "fetch", Description: "Fetch a web page", URI: "oci://x/fetch"}}})
	s := connect(t, srv, "2025-11-25", nil)

	loaded := reply(t, s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"}))
	if fmt.Sprint(loaded["tools"]) != "[echo block fail ask load-component resource-only]" {
		t.Errorf("load reply tools = %v", loaded["tools"])
	}
	list := reply(t, s.call(t, "list-components", map[string]any{}))
	comps := list["components"].([]any)
	first := comps[0].(map[string]any)
	if first["id"] != "echo" || first["tools_count"] != 6.0 {
		t.Errorf("list-components entry = %v", first)
	}
	if tools := first["schema"].(map[string]any)["tools"].([]any); len(tools) != 6 {
		t.Errorf("list-components schema.tools has %d entries, want 6", len(tools))
	}
	found := reply(t, s.call(t, "search-components", map[string]any{"query": "fetch"}))
	if fmt.Sprint(found["components"]) != "[map[description:Fetch a web page name:fetch uri:oci://x/fetch]]" {
		t.Errorf("search reply = %v", found)
	}
	s.call(t, "grant-network-permission", map[string]any{"component_id": "echo", "details": map[string]any{"host": "example.com"}})
	if got := fb.grantsOf("echo"); len(got) != 1 || got[0].Kind != sandbox.PermissionNetwork || got[0].Host != "example.com" {
		t.Errorf("backend grants = %+v", got)
	}
}

func TestBuiltinBadArguments(t *testing.T) {
	srv := newServer(t, newFakeBackend(), Options{})
	s := connect(t, srv, "2025-11-25", nil)
	tests := []struct {
		name string
		tool string
		args map[string]any
	}{
		{"missingPath", "load-component", map[string]any{}},
		{"pathNotString", "load-component", map[string]any{"path": 7}},
		{"extraDetail", "grant-network-permission", map[string]any{"component_id": "x", "details": map[string]any{"host": "a", "port": 1}}},
		{"badAccess", "grant-storage-permission", map[string]any{"component_id": "x", "details": map[string]any{"uri": "fs:///a", "access": []string{"exec"}}}},
		{"noDetails", "grant-environment-variable-permission", map[string]any{"component_id": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.call(t, tt.tool, tt.args)
			if !res.IsError || !strings.Contains(text(t, res), "rejected") {
				t.Errorf("want an error result saying the arguments were rejected, got %+v", res)
			}
		})
	}
}

func TestGrantRefusals(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"headless", fmt.Errorf("grant: %w", sandbox.ErrAgentGrantRefused),
			[]string{"refused: headless Tapedeck does not let agents grant permissions", "tapedeck permission grant network echo api.example.com", "--allow-agent-grants"}},
		{"denied", fmt.Errorf("grant: %w", sandbox.ErrDenied), []string{"the person denied it"}},
		{"noOneToAsk", fmt.Errorf("grant: %w", sandbox.ErrNoOneToAsk), []string{"refused: headless Tapedeck", "--allow-agent-grants"}},
		{"other", errors.New("disk full"), []string{"disk full"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.grantErr = tt.err
			srv := newServer(t, fb, Options{})
			s := connect(t, srv, "2025-11-25", nil)
			res := s.call(t, "grant-network-permission", map[string]any{"component_id": "echo", "details": map[string]any{"host": "api.example.com"}})
			if !res.IsError {
				t.Fatalf("want an error result, got %s", text(t, res))
			}
			for _, w := range tt.want {
				if !strings.Contains(text(t, res), w) {
					t.Errorf("reply %q does not say %q", text(t, res), w)
				}
			}
		})
	}
}

func TestComponentToolCall(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			srv := newServer(t, fb, Options{})
			s := connect(t, srv, p.version, nil)
			s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})

			res := s.call(t, "echo", map[string]any{"message": "hello"})
			if res.IsError || text(t, res) != "hello" {
				t.Fatalf("echo = %+v", res)
			}
			if b, _ := json.Marshal(res.StructuredContent); string(b) != `{"result":"hello"}` {
				t.Errorf("structuredContent = %s", b)
			}
			got := fb.lastCall()
			want := sandbox.Client{Name: "test-client", Version: "1.2.3", Transport: "memory", PID: 42}
			if got.Client != want || got.Tool != "echo" || string(got.Args) != `{"message":"hello"}` {
				t.Errorf("backend saw %+v, want client %+v", got, want)
			}

			res = s.call(t, "fail", nil)
			if !res.IsError || !strings.Contains(text(t, res), "trapped") {
				t.Errorf("a failing tool must stay a tool result with isError: %+v", res)
			}
		})
	}
}

func TestClientInfo(t *testing.T) {
	tests := []struct {
		name, wantName, wantVersion string
		meta                        mcp.Meta
	}{
		{"FromMeta", "editor", "2", mcp.Meta{mcp.MetaKeyClientInfo: map[string]any{"name": "editor", "version": "2"}}},
		{"TypedMeta", "editor", "3", mcp.Meta{mcp.MetaKeyClientInfo: &mcp.Implementation{Name: "editor", Version: "3"}}},
		{"MalformedMeta", "", "", mcp.Meta{mcp.MetaKeyClientInfo: map[string]any{"name": 5, "version": "2"}}},
		{"NoMeta", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Meta: tt.meta}}
			if name, version := clientInfo(req); name != tt.wantName || version != tt.wantVersion {
				t.Errorf("clientInfo = %q %q, want %q %q", name, version, tt.wantName, tt.wantVersion)
			}
		})
	}
}

func TestComponentToolBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args any
	}{
		{"wrongType", map[string]any{"message": 5}},
		{"missing", map[string]any{}},
		{"extra", map[string]any{"message": "a", "more": 1}},
	}
	fb := newFakeBackend()
	srv := newServer(t, fb, Options{})
	s := connect(t, srv, "2025-11-25", nil)
	s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fb.callCount()
			res := s.call(t, "echo", tt.args)
			if !res.IsError || !strings.Contains(text(t, res), "arguments for echo rejected") {
				t.Errorf("want a schema rejection, got %+v", res)
			}
			if fb.callCount() != before {
				t.Error("the backend was called with arguments that fail the schema")
			}
		})
	}
}

func TestUnknownTool(t *testing.T) {
	srv := newServer(t, newFakeBackend(), Options{})
	s := connect(t, srv, "2025-11-25", nil)
	_, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "no-such-tool", Arguments: map[string]any{}})
	if err == nil || !strings.Contains(err.Error(), "unknown tool") {
		t.Errorf("want an unknown tool error, got %v", err)
	}
}

func TestLoadSendsListChangedBeforeReply(t *testing.T) {
	// The go-sdk client runs notification handlers on their own
	// goroutines, so the order is checked on the wire.
	raw := newRawSession(t, newServer(t, newFakeBackend(), Options{}))
	raw.handshake(t)
	raw.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"load-component","arguments":{"path":"file:///tmp/echo.wasm"}}}`)
	sawListChanged := false
	for {
		msg := raw.read(t)
		if msg["method"] == "notifications/tools/list_changed" {
			sawListChanged = true
		}
		if fmt.Sprint(msg["id"]) == "2" {
			break
		}
	}
	if !sawListChanged {
		t.Error("the load reply arrived before tools/list_changed")
	}
}

func TestListChangedOnBackendEvents(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			srv := newServer(t, fb, Options{})
			s := connect(t, srv, p.version, nil)
			fb.addComponent(echoComponent("other")) // as if another client loaded it
			wait(t, s.listChanged, "tools/list_changed after a load")
			if !slices.Contains(s.toolNames(t), "echo") {
				t.Error("echo not listed after the load event")
			}
			if err := fb.Unload(t.Context(), "other", sandbox.Client{}); err != nil {
				t.Fatal(err)
			}
			wait(t, s.listChanged, "tools/list_changed after an unload")
			if slices.Contains(s.toolNames(t), "echo") {
				t.Error("echo still listed after the unload event")
			}
		})
	}
}

func TestLoadProgress(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			srv := newServer(t, newFakeBackend(), Options{})
			s := connect(t, srv, p.version, nil)
			params := &mcp.CallToolParams{Name: "load-component", Arguments: map[string]any{"path": "file:///tmp/echo.wasm"}}
			params.SetProgressToken("load-1")
			if _, err := s.CallTool(t.Context(), params); err != nil {
				t.Fatal(err)
			}
			var got []float64
			for range 3 {
				n := wait(t, s.progress, "a progress notification")
				if n.ProgressToken != "load-1" || n.Total != 100 {
					t.Errorf("progress = %+v", n)
				}
				got = append(got, n.Progress)
			}
			if fmt.Sprint(got) != "[0 50 100]" {
				t.Errorf("progress values = %v, want [0 50 100]", got)
			}
		})
	}
}

func TestLoadFailure(t *testing.T) {
	srv := newServer(t, newFakeBackend(), Options{})
	s := connect(t, srv, "2025-11-25", nil)
	res := s.call(t, "load-component", map[string]any{"path": "/nowhere/x.wasm"})
	if !res.IsError || !strings.Contains(text(t, res), "loading /nowhere/x.wasm failed") {
		t.Errorf("want a load failure result, got %+v", res)
	}
}

func TestCancellationReachesCall(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			srv := newServer(t, fb, Options{})
			s := connect(t, srv, p.version, nil)
			s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				_, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
				done <- err
			}()
			wait(t, fb.blockStarted, "the block call to start")
			cancel()
			if err := wait(t, fb.blockEnded, "the call's context to end"); !errors.Is(err, context.Canceled) {
				t.Errorf("the backend's ctx ended with %v, want context.Canceled", err)
			}
			if err := wait(t, done, "CallTool to return"); err == nil {
				t.Error("a cancelled call returned no error")
			}
			// The session carries on.
			if res := s.call(t, "echo", map[string]any{"message": "after"}); text(t, res) != "after" {
				t.Errorf("echo after a cancel = %q", text(t, res))
			}
		})
	}
}

func TestLogging(t *testing.T) {
	fb := newFakeBackend()
	srv := newServer(t, fb, Options{})
	s := connect(t, srv, "2025-11-25", nil)
	if err := s.SetLoggingLevel(t.Context(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	fb.emit(sandbox.Event{Kind: sandbox.EventCallFinished, Tool: "echo"}) // debug: below the level
	fb.emit(sandbox.Event{Kind: sandbox.EventFailed, Component: "bad", Detail: "not a component"})
	msg := wait(t, s.logs, "a log message")
	data, _ := json.Marshal(msg.Data)
	if msg.Level != "error" || !strings.Contains(string(data), `"detail":"not a component"`) {
		t.Errorf("log message = %s %s, want the failure at level error", msg.Level, data)
	}
}

func TestElicitationPrompter(t *testing.T) {
	fallback := sandbox.PrompterFunc(func(context.Context, sandbox.AccessRequest) (sandbox.Answer, error) {
		return sandbox.DenyAlways, nil // a marker: only the fallback answers this
	})
	answer := func(allow bool) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			if !strings.Contains(r.Params.Message, "echo") {
				return nil, fmt.Errorf("the question does not name the component: %q", r.Params.Message)
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"allow": allow}}, nil
		}
	}
	decline := func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	tests := []struct {
		name     string
		version  string
		handler  func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)
		grant    bool
		fallback sandbox.Prompter
		want     string
	}{
		{"yes", "2025-11-25", answer(true), false, fallback, "allow once"},
		{"no", "2025-11-25", answer(false), false, fallback, "deny"},
		{"declined", "2025-11-25", decline, false, fallback, "deny"},
		{"noCapability", "2025-11-25", nil, false, fallback, "always deny"},
		{"statelessYes", "2026-07-28", answer(true), false, fallback, "allow once"},
		{"statelessDeclined", "2026-07-28", decline, false, fallback, "deny"},
		{"statelessNoCapability", "2026-07-28", nil, false, fallback, "always deny"},
		{"statelessGrantGoesToFallback", "2026-07-28", answer(true), true, fallback, "always deny"},
		{"grantGoesToFallback", "2025-11-25", answer(true), true, fallback, "always deny"},
		{"noFallback", "2025-11-25", nil, false, nil, "no one to ask"},
		{"grantNoFallback", "2025-11-25", answer(true), true, nil, "no one to ask"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.prompter = ElicitationPrompter{Fallback: tt.fallback}
			srv := newServer(t, fb, Options{})
			s := connect(t, srv, tt.version, askingClient(tt.version, tt.handler))
			s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})
			res := s.call(t, "ask", map[string]any{"grant": tt.grant})
			if text(t, res) != tt.want {
				t.Errorf("answer = %q, want %q", text(t, res), tt.want)
			}
		})
	}
}

// TestElicitationManyQuestions: one call that asks three times gets each
// answer in turn, on both protocol generations (the go-sdk re-runs the
// handler only once for older clients; the Server does the later rounds).
func TestElicitationManyQuestions(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.prompter = ElicitationPrompter{}
			srv := newServer(t, fb, Options{})
			var asked atomic.Int32
			alternate := func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				n := asked.Add(1)
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"allow": n%2 == 1}}, nil
			}
			s := connect(t, srv, p.version, askingClient(p.version, alternate))
			s.call(t, "load-component", map[string]any{"path": "file:///tmp/echo.wasm"})
			res := s.call(t, "ask", map[string]any{"times": 3})
			if got := text(t, res); got != "allow once,deny,allow once" || asked.Load() != 3 {
				t.Errorf("answers = %q after %d questions, want allow once,deny,allow once after 3", got, asked.Load())
			}
			if n := srv.parkedCount(); n != 0 {
				t.Errorf("%d calls parked after the call ended", n)
			}
		})
	}
}

// askingClient is a client that answers elicitation with handler. On
// protocols before 2026-07-28 it does not know input requests either, as
// the clients of that generation: the go-sdk client would otherwise fulfil
// them whatever the protocol.
func askingClient(version string, handler func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)) *mcp.ClientOptions {
	opts := &mcp.ClientOptions{ElicitationHandler: handler}
	if version < "2026-07-28" {
		opts.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	}
	return opts
}

func TestSearchCatalog(t *testing.T) {
	catalog := []CatalogEntry{
		{Name: "fetch", Description: "Fetch web pages as markdown", URI: "oci://ghcr.io/a/fetch-rs:1"},
		{Name: "fetcher-pro", Description: "Downloads", URI: "oci://ghcr.io/a/fp:1"},
		{Name: "time", Description: "Fetch the time", URI: "oci://ghcr.io/a/time:1"},
		{Name: "weather", Description: "Weather from a web service that can fetch forecasts", URI: "oci://ghcr.io/a/weather:1"},
		{Name: "gomodule", Description: "Go module info", URI: "oci://ghcr.io/a/gomodule:1"},
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"empty", "", []string{"fetch", "fetcher-pro", "time", "weather", "gomodule"}},
		// fetch: name 100 + description prefix 15 + uri 5; fetcher-pro: prefix 50;
		// time: description prefix 15; weather: description contains 10.
		{"ranked", "fetch", []string{"fetch", "fetcher-pro", "time", "weather"}},
		{"caseIgnored", "FETCH", []string{"fetch", "fetcher-pro", "time", "weather"}},
		// nameContains (20) beats descriptionPrefix (15).
		{"nameContains", "module", []string{"gomodule"}},
		{"uriOnly", "fp", []string{"fetcher-pro"}},
		// Terms add up: weather scores on both words.
		{"twoTerms", "weather fetch", []string{"weather", "fetch", "fetcher-pro", "time"}},
		{"noMatch", "zzz", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, e := range searchCatalog(catalog, tt.query) {
				got = append(got, e.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

func TestEventLevels(t *testing.T) {
	tests := []struct {
		kind    sandbox.EventKind
		isError bool
		want    mcp.LoggingLevel
		ok      bool
	}{
		{sandbox.EventFailed, false, "error", true},
		{sandbox.EventDenied, false, "warning", true},
		{sandbox.EventAsked, false, "notice", true},
		{sandbox.EventLoaded, false, "info", true},
		{sandbox.EventCallFinished, false, "debug", true},
		{sandbox.EventCallFinished, true, "warning", true},
		{sandbox.EventClientConnected, false, "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-isError=%v", tt.kind, tt.isError), func(t *testing.T) {
			got, ok := eventLevel(sandbox.Event{Kind: tt.kind, IsError: tt.isError})
			if got != tt.want || ok != tt.ok {
				t.Errorf("eventLevel(%s, isError=%v) = %q, %v; want %q, %v", tt.kind, tt.isError, got, ok, tt.want, tt.ok)
			}
		})
	}
}
