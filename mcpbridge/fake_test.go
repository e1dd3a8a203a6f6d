package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/sandbox"
)

// fakeBackend is an in-memory Backend: components come from a table of
// loadable URIs, tools answer from Go code, grants are kept in a list.
// The real sandbox.Host is wired in by the command line.
type fakeBackend struct {
	// loadable maps a URI to the component a load of it adds.
	loadable map[string]sandbox.ComponentInfo
	// grantErr, when set, is what Grant returns (a person's denial, a
	// headless refusal).
	grantErr error
	// prompter, when set, is asked before a grant is recorded, as the Host
	// asks its Prompter.
	prompter sandbox.Prompter

	mu         sync.Mutex
	components map[string]sandbox.ComponentInfo
	grants     map[string][]sandbox.Permission
	policies   map[string]string
	calls      []sandbox.CallRequest
	subs       []chan sandbox.Event
	// blockStarted receives a value when the block tool starts; the
	// block tool then waits for its ctx and sends the ctx's error on
	// blockEnded.
	blockStarted chan struct{}
	blockEnded   chan error
}

// echoComponent has tools echo (returns its message), block (waits until
// cancelled), fail (an error result), ask (asks the prompter, "times"
// times, and returns the answers joined by commas) and
// load-component (a name a built-in has: it must stay hidden).
func echoComponent(id string) sandbox.ComponentInfo {
	msgSchema := json.RawMessage(`{"type":"object","properties":{"message":{"type":"string"}},"required":["message"],"additionalProperties":false}`)
	out := json.RawMessage(`{"type":"object","properties":{"result":{"type":"string"}},"required":["result"]}`)
	empty := json.RawMessage(`{"type":"object","properties":{}}`)
	askSchema := json.RawMessage(`{"type":"object","properties":{"grant":{"type":"boolean"},"times":{"type":"integer"}}}`)
	return sandbox.ComponentInfo{
		ID: id, Source: "file:///tmp/" + id + ".wasm", Digest: "sha256:00", State: sandbox.StateReady, Enabled: true,
		Tools: []sandbox.ToolInfo{
			{Name: "echo", Component: id, Description: "Echo a message", InputSchema: msgSchema, OutputSchema: out},
			{Name: "block", Component: id, InputSchema: empty},
			{Name: "fail", Component: id, InputSchema: empty},
			{Name: "ask", Component: id, InputSchema: askSchema},
			{Name: "load-component", Component: id, InputSchema: empty},
			{Name: "resource-only", Component: id, InputSchema: empty, Unavailable: "takes a resource"},
		},
	}
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		loadable:     map[string]sandbox.ComponentInfo{"file:///tmp/echo.wasm": echoComponent("echo")},
		components:   map[string]sandbox.ComponentInfo{},
		grants:       map[string][]sandbox.Permission{},
		policies:     map[string]string{},
		blockStarted: make(chan struct{}, 16),
		blockEnded:   make(chan error, 16),
	}
}

func (f *fakeBackend) Tools() []sandbox.ToolInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sandbox.ToolInfo
	for _, c := range f.components {
		out = append(out, c.Tools...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *fakeBackend) Call(ctx context.Context, req sandbox.CallRequest) (*sandbox.CallResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.mu.Unlock()
	switch req.Tool {
	case "echo":
		var args struct{ Message string }
		if err := json.Unmarshal(req.Args, &args); err != nil {
			return nil, err
		}
		structured, _ := json.Marshal(map[string]string{"result": args.Message})
		return &sandbox.CallResult{Structured: structured, Text: args.Message}, nil
	case "block":
		f.blockStarted <- struct{}{}
		<-ctx.Done()
		f.blockEnded <- ctx.Err()
		return nil, ctx.Err()
	case "fail":
		return &sandbox.CallResult{Text: "the component trapped: unreachable", IsError: true}, nil
	case "ask":
		if f.prompter == nil {
			return &sandbox.CallResult{Text: "no prompter", IsError: true}, nil
		}
		var args struct {
			Grant bool
			Times int
		}
		json.Unmarshal(req.Args, &args)
		var answers []string
		for i := range max(args.Times, 1) {
			answer, err := f.prompter.Ask(ctx, sandbox.AccessRequest{ID: fmt.Sprintf("q%d", i+1), Component: "echo", Tool: "ask", Client: req.Client, Why: "to test", Grant: args.Grant})
			if errors.Is(err, sandbox.ErrNoOneToAsk) {
				return &sandbox.CallResult{Text: "no one to ask", IsError: true}, nil
			}
			if err != nil {
				return nil, err
			}
			answers = append(answers, answer.String())
		}
		text := strings.Join(answers, ",")
		structured, _ := json.Marshal(map[string]string{"result": text})
		return &sandbox.CallResult{Structured: structured, Text: text}, nil
	}
	return nil, fmt.Errorf("no tool %q", req.Tool)
}

func (f *fakeBackend) Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error) {
	c, ok := f.loadable[uri]
	if !ok {
		return nil, fmt.Errorf("%s: no such file", uri)
	}
	if opts.Progress != nil {
		for _, done := range []int64{0, 50, 100} {
			opts.Progress(done, 100)
		}
	}
	c.Loaded = time.Now()
	f.mu.Lock()
	_, reloaded := f.components[c.ID]
	f.components[c.ID] = c
	f.mu.Unlock()
	f.emit(sandbox.Event{Kind: sandbox.EventLoaded, Component: c.ID, Client: &opts.Client})
	return &sandbox.LoadResult{Component: c, Reloaded: reloaded}, nil
}

func (f *fakeBackend) Unload(ctx context.Context, id string, by sandbox.Client) error {
	f.mu.Lock()
	_, ok := f.components[id]
	delete(f.components, id)
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("%q: %w", id, sandbox.ErrNoComponent)
	}
	f.emit(sandbox.Event{Kind: sandbox.EventUnloaded, Component: id})
	return nil
}

func (f *fakeBackend) List() []sandbox.ComponentInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sandbox.ComponentInfo
	for _, c := range f.components {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (f *fakeBackend) Policy(id string) (*sandbox.PolicyInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.components[id]; !ok {
		return nil, fmt.Errorf("%q: %w", id, sandbox.ErrNoComponent)
	}
	return &sandbox.PolicyInfo{ComponentID: id, YAML: f.policies[id], Path: "/data/components/" + id + ".policy.yaml"}, nil
}

func (f *fakeBackend) Grant(ctx context.Context, id string, p sandbox.Permission, by sandbox.Client) error {
	if f.grantErr != nil {
		return f.grantErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.components[id]; !ok {
		return fmt.Errorf("%q: %w", id, sandbox.ErrNoComponent)
	}
	f.grants[id] = append(f.grants[id], p)
	f.policies[id] = "version: \"1.0\"\n"
	return nil
}

func (f *fakeBackend) Revoke(ctx context.Context, id string, p sandbox.Permission, by sandbox.Client) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var kept []sandbox.Permission
	for _, g := range f.grants[id] {
		if g.Kind != p.Kind || g.URI != p.URI || g.Host != p.Host || g.Key != p.Key {
			kept = append(kept, g)
		}
	}
	f.grants[id] = kept
	return nil
}

func (f *fakeBackend) Reset(ctx context.Context, id string, by sandbox.Client) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.grants, id)
	delete(f.policies, id)
	return nil
}

func (f *fakeBackend) Subscribe(ctx context.Context) <-chan sandbox.Event {
	ch := make(chan sandbox.Event, 64)
	f.mu.Lock()
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, c := range f.subs {
			if c == ch {
				f.subs = append(f.subs[:i], f.subs[i+1:]...)
				close(ch)
				return
			}
		}
	})
	return ch
}

// emit sends ev to every subscriber.
func (f *fakeBackend) emit(ev sandbox.Event) {
	ev.Time = time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- ev
	}
}

// lastCall returns the most recent call the backend saw.
func (f *fakeBackend) lastCall() sandbox.CallRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return sandbox.CallRequest{}
	}
	return f.calls[len(f.calls)-1]
}

// callCount returns how many calls the backend saw.
func (f *fakeBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// grantsOf returns a copy of id's grants.
func (f *fakeBackend) grantsOf(id string) []sandbox.Permission {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sandbox.Permission(nil), f.grants[id]...)
}

// addComponent loads c directly, as a load from another client would.
func (f *fakeBackend) addComponent(c sandbox.ComponentInfo) {
	f.mu.Lock()
	f.components[c.ID] = c
	f.mu.Unlock()
	f.emit(sandbox.Event{Kind: sandbox.EventLoaded, Component: c.ID})
}

var _ Backend = (*fakeBackend)(nil)
