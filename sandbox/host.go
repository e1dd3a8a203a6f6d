package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"tapedeck.dev/tapedeck/sandbox/activity"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/policy"
	"tapedeck.dev/tapedeck/sandbox/store"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// DefaultCallTimeout bounds a tool call when the component's settings name
// no timeout.
const DefaultCallTimeout = 60 * time.Second

// Options configure a Host. Dir is required; the rest have working zero
// values.
type Options struct {
	// Dir is the component directory (Wassette's layout).
	Dir string
	// CacheDir holds compiled native code; empty keeps it in memory only.
	CacheDir string
	// Protected are Tapedeck's own folders: no component may touch them,
	// whatever its policy says.
	Protected []string
	// Secrets holds per-component secrets; nil means none.
	Secrets SecretStore
	// Activity is the activity log; nil logs nothing.
	Activity *activity.Log
	// Prompter asks a person when a policy is silent or an agent asks for a
	// grant; nil means no one can be asked (headless). SetPrompter changes it.
	Prompter Prompter
	// PromptTimeout bounds each question to the Prompter; when it passes
	// the answer is Deny. 0 means DefaultPromptTimeout.
	PromptTimeout time.Duration
	// AllowAgentGrants lets agents' grant requests through without a
	// person when no Prompter is set (serve --allow-agent-grants).
	AllowAgentGrants bool
	// TrustBundledPolicy applies policies that arrive with components
	// without asking (serve --trust-bundled-policy).
	TrustBundledPolicy bool
	// Env is Tapedeck's own environment: the last source of values for the
	// variables a policy allows. nil means none.
	Env map[string]string
	// PoolSize is how many instances of each component are kept ready when
	// calls are few; 0 means 1. While calls outrun it, a pool keeps up to
	// component.MaxPoolReady ready.
	PoolSize int
	// Interpreter runs guests in wazero's interpreter (tests, slow machines).
	Interpreter bool
	// Hosts are extra host interfaces beside WASI (tests provide custom imports).
	Hosts []*component.HostInterface
	// Fetch is the fetch configuration for https:// and oci:// loads.
	Fetch store.FetchOptions
	// TimeoutHint tells a person how to raise a call's time limit, in the
	// result of a call that ran out of it. Empty means the component's
	// settings (the Tapedeck tray, or call_timeout in <id>.tapedeck.json);
	// a Host made for one command names that command's flag instead.
	TimeoutHint string
}

// SecretStore is what the Host needs of sandbox/secrets.
type SecretStore interface {
	Get(component, key string) (string, error)
	List(component string) ([]string, error)
	DeleteAll(component string) error
}

// Host is Tapedeck's sandbox: the loaded components, their policies, and the
// runtime that calls them. It is safe for concurrent use.
type Host struct {
	opts      Options
	store     *store.Store
	rt        *component.Runtime
	wasi      *wasi.Host
	protected policy.Protected
	names     component.ToolNames

	mu         sync.RWMutex
	comps      map[string]*loaded // by id
	tools      map[string]*toolRef
	prompter   Prompter
	paused     bool
	resumed    chan struct{} // closed on Resume; replaced on Pause
	loadLocks  map[string]*sync.Mutex
	subs       map[chan Event]struct{}
	subsMu     sync.Mutex
	background sync.WaitGroup
	closeCtx   context.Context
	closeFn    context.CancelFunc
}

// loaded is one component as the Host holds it. Its fields change only
// under Host.mu, and not at all once ready is closed (but for the pool,
// which is atomic): a reload makes a new loaded.
type loaded struct {
	id       string
	source   string
	digest   string
	size     int64
	settings store.Settings
	gate     *Gate
	at       time.Time

	ready chan struct{}
	comp  *component.Component
	pool  atomic.Pointer[component.Pool] // replaced when limits change
	funcs map[string]*component.Func     // by tool name
	tools []ToolInfo
	err   error
}

type toolRef struct {
	comp *loaded
	fn   *component.Func
}

// New opens the component directory and starts the Host. Components found
// there are listed at once from their saved metadata and compiled in the
// background; their tools become callable as each is ready.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.Dir == "" {
		return nil, errors.New("sandbox: Options.Dir (the component directory) is required")
	}
	st, err := store.Open(opts.Dir)
	if err != nil {
		return nil, err
	}
	prot, err := policy.NewProtected(realPaths(opts.Protected)...)
	if err != nil {
		return nil, fmt.Errorf("sandbox: protected folders: %w", err)
	}
	h := &Host{opts: opts, store: st, protected: prot, prompter: opts.Prompter,
		comps: map[string]*loaded{}, tools: map[string]*toolRef{}, loadLocks: map[string]*sync.Mutex{},
		subs: map[chan Event]struct{}{}, resumed: make(chan struct{})}
	close(h.resumed)
	h.closeCtx, h.closeFn = context.WithCancel(context.Background())
	h.wasi = wasi.New(wasi.Config{Environment: h.environment, Store: configStore{h}})
	reg := component.NewRegistry(opts.Hosts...)
	h.wasi.Register(reg)
	if h.rt, err = component.NewRuntime(ctx, component.Config{CacheDir: opts.CacheDir, Hosts: reg, Interpreter: opts.Interpreter}); err != nil {
		return nil, err
	}
	listing, err := st.List()
	if err != nil {
		return nil, err
	}
	for _, l := range listing {
		h.startStored(l)
	}
	return h, nil
}

// realPaths resolves symlinks where it can, because storage accesses are
// decided on real paths.
func realPaths(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			abs = r
		}
		out = append(out, abs)
	}
	return out
}

// Close stops background work, waits for it, and releases the runtime.
// Calls still running are cancelled.
func (h *Host) Close(ctx context.Context) error {
	h.closeFn()
	h.background.Wait()
	// Pools are closed outside h.mu: an instance starting in a pool may be
	// reading its environment, which takes h.mu.
	h.mu.RLock()
	var pools []*component.Pool
	for _, l := range h.comps {
		if pool := l.pool.Load(); pool != nil {
			pools = append(pools, pool)
		}
	}
	h.mu.RUnlock()
	for _, pool := range pools {
		pool.Close()
	}
	h.subsMu.Lock()
	for ch := range h.subs {
		close(ch)
		delete(h.subs, ch)
	}
	h.subsMu.Unlock()
	return h.rt.Close(ctx)
}

// SetPrompter sets who is asked when a policy is silent (the tray calls it
// when it starts); nil makes the Host headless.
func (h *Host) SetPrompter(p Prompter) {
	h.mu.Lock()
	h.prompter = p
	gates := make([]*Gate, 0, len(h.comps))
	for _, l := range h.comps {
		gates = append(gates, l.gate)
	}
	h.mu.Unlock()
	for _, g := range gates {
		g.setPrompter(p)
	}
}

func (h *Host) currentPrompter() Prompter {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.prompter
}

// Subscribe streams the Host's events until ctx is done, then closes the
// channel. A subscriber that falls behind misses events rather than
// slowing the Host down.
func (h *Host) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 256)
	h.subsMu.Lock()
	h.subs[ch] = struct{}{}
	h.subsMu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-h.closeCtx.Done():
		}
		h.subsMu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		h.subsMu.Unlock()
	}()
	return ch
}

func (h *Host) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.subsMu.Lock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
	h.subsMu.Unlock()
	h.logEvent(e)
}

// logEvent records the events a person may want to look back on.
func (h *Host) logEvent(e Event) {
	if h.opts.Activity == nil {
		return
	}
	var kind activity.Kind
	switch e.Kind {
	case EventLoaded, EventReady:
		kind = activity.KindLoad
	case EventFailed:
		kind = activity.KindLoad
	case EventUnloaded:
		kind = activity.KindUnload
	case EventCallFinished:
		kind = activity.KindCall
	case EventAsked:
		kind = activity.KindAsk
	case EventAllowed:
		kind = activity.KindAnswer
	case EventDenied:
		kind = activity.KindDenial
	case EventPolicyChanged:
		kind = activity.KindGrant
	case EventClientConnected, EventClientDisconnected:
		kind = activity.KindClient
	default:
		return
	}
	entry := activity.Entry{Time: e.Time, Kind: kind, Component: e.Component, Tool: e.Tool, Duration: e.Duration,
		Detail: map[string]string{"event": string(e.Kind)}}
	if e.Client != nil {
		entry.Client = e.Client.String()
	}
	if e.Access != "" {
		entry.Detail["access"] = e.Access
	}
	if e.Answer != "" {
		entry.Detail["answer"] = e.Answer
	}
	if e.Detail != "" {
		entry.Detail["detail"] = e.Detail
	}
	entry.Result = "ok"
	if e.IsError {
		entry.Result = "error"
	}
	if e.Kind == EventDenied {
		entry.Result = "denied"
	}
	h.opts.Activity.Append(entry) // the log is best effort: a full disk must not stop calls
}

// List returns the loaded components, ordered by id.
func (h *Host) List() []ComponentInfo {
	h.mu.RLock()
	out := make([]ComponentInfo, 0, len(h.comps))
	for _, l := range h.comps {
		out = append(out, l.info())
	}
	h.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Tools returns every callable tool of every enabled component, ordered by
// name. Components still compiling list the tools their saved metadata names.
func (h *Host) Tools() []ToolInfo {
	var out []ToolInfo
	for _, c := range h.List() {
		if !c.Enabled || c.State == StateFailed {
			continue
		}
		out = append(out, c.Tools...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (l *loaded) info() ComponentInfo {
	ci := ComponentInfo{ID: l.id, Source: l.source, Digest: l.digest, Size: l.size,
		Enabled: !l.settings.Disabled, Tools: l.tools, Loaded: l.at, State: StateCompiling}
	select {
	case <-l.ready:
		if l.err != nil {
			ci.State, ci.Error = StateFailed, l.err.Error()
		} else {
			ci.State = StateReady
		}
	default:
	}
	if l.settings.Disabled {
		ci.State = StateDisabled
	}
	if ci.Tools == nil {
		ci.Tools = []ToolInfo{}
	}
	return ci
}

// Pause makes new tool calls wait until Resume (calls already running go
// on). Resume lets them through.
func (h *Host) Pause() {
	h.mu.Lock()
	if h.paused {
		h.mu.Unlock()
		return
	}
	h.paused = true
	h.resumed = make(chan struct{})
	h.mu.Unlock()
	h.emit(Event{Kind: EventPaused})
}

// Resume ends a Pause.
func (h *Host) Resume() {
	h.mu.Lock()
	if !h.paused {
		h.mu.Unlock()
		return
	}
	h.paused = false
	close(h.resumed)
	h.mu.Unlock()
	h.emit(Event{Kind: EventResumed})
}

// Paused reports whether tool calls are paused.
func (h *Host) Paused() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.paused
}

// Policy returns a component's policy as stored.
func (h *Host) Policy(id string) (*PolicyInfo, error) {
	l, err := h.get(id)
	if err != nil {
		return nil, err
	}
	path, err := h.store.PolicyPath(id)
	if err != nil {
		return nil, err
	}
	info := &PolicyInfo{ComponentID: id, Path: path}
	if data, err := os.ReadFile(path); err == nil {
		info.YAML = string(data)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("policy of %s: %w", id, err)
	} else if l.gate != nil {
		if data, err := l.gate.Policy().Marshal(); err == nil && len(data) > 0 {
			info.YAML = string(data)
		}
	}
	return info, nil
}

func (h *Host) get(id string) (*loaded, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	l, ok := h.comps[id]
	if !ok {
		return nil, fmt.Errorf("%w %q (see `tapedeck component list`)", ErrNoComponent, id)
	}
	return l, nil
}
