package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/policy"
	"tapedeck.dev/tapedeck/sandbox/store"
)

// toolSchema is one entry of the metadata's tool_schemas: an MCP tool
// definition, as Wassette writes it.
type toolSchema struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Export       []string        `json:"x-tapedeck-export,omitempty"`
	Unavailable  string          `json:"x-tapedeck-unavailable,omitempty"`
}

// startStored lists a stored component from its metadata at once and
// compiles it in the background.
func (h *Host) startStored(ls store.Listing) {
	l := &loaded{id: ls.ID, settings: ls.Settings, source: ls.Settings.Source, digest: ls.Settings.CodeDigest,
		ready: make(chan struct{}), at: time.Now()}
	if ls.Metadata != nil {
		l.size = int64(ls.Metadata.ValidationStamp.FileSize)
		for _, raw := range ls.Metadata.ToolSchemas {
			var ts toolSchema
			if json.Unmarshal(raw, &ts) == nil {
				l.tools = append(l.tools, ToolInfo{Name: ts.Name, Component: ls.ID, Export: ts.Export,
					Description: ts.Description, InputSchema: ts.InputSchema, OutputSchema: ts.OutputSchema, Unavailable: ts.Unavailable})
			}
		}
		wanted := make([]string, len(l.tools))
		for i, t := range l.tools {
			wanted[i] = t.Name
		}
		for i, a := range h.names.Assign(ls.ID, wanted) {
			l.tools[i].Name, l.tools[i].Note = a.Name, a.Note
		}
	}
	if ls.Err != nil {
		l.err = ls.Err
		close(l.ready)
	}
	h.mu.Lock()
	h.comps[ls.ID] = l
	h.rebuildToolsLocked()
	h.mu.Unlock()
	if ls.Err != nil {
		return
	}
	h.background.Add(1)
	go func() {
		defer h.background.Done()
		h.emit(Event{Kind: EventCompiling, Component: ls.ID})
		err := h.compileStored(h.closeCtx, l)
		h.mu.Lock()
		l.err = err
		close(l.ready)
		h.rebuildToolsLocked()
		h.mu.Unlock()
		if err != nil {
			h.emit(Event{Kind: EventFailed, Component: ls.ID, Detail: err.Error(), IsError: true})
			return
		}
		h.emit(Event{Kind: EventReady, Component: ls.ID})
	}()
}

func (h *Host) compileStored(ctx context.Context, l *loaded) error {
	sc, err := h.store.Get(l.id)
	if err != nil {
		return err
	}
	comp, err := h.rt.Compile(ctx, sc.Wasm)
	if err != nil {
		return fmt.Errorf("compile %s: %w", l.id, err)
	}
	pol, err := h.policyFor(l.id, sc.Policy)
	if err != nil {
		comp.Close(ctx)
		return err
	}
	if sc.Settings.GrantsDigest != "" && sc.Settings.GrantsDigest != sc.Digest {
		// The code changed behind our back (another program wrote the
		// directory): its grants were made for other code.
		pol = policy.New()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l.digest, l.size = sc.Digest, int64(len(sc.Wasm))
	h.finish(l, comp, pol, h.prompter)
	return nil
}

// policyFor parses a stored policy, or returns an empty one.
func (h *Host) policyFor(id string, data []byte) (*policy.Policy, error) {
	if data == nil {
		return policy.New(), nil
	}
	pol, err := policy.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("the policy of %s does not parse; fix or remove it: %w", id, err)
	}
	return pol, nil
}

// finish fills in a compiled component: its gate, tools and pool. A
// component other goroutines can see is finished under h.mu.
func (h *Host) finish(l *loaded, comp *component.Component, pol *policy.Policy, prompter Prompter) {
	path, _ := h.store.PolicyPath(l.id)
	l.comp = comp
	l.gate = NewGate(GateConfig{Component: l.id, Policy: pol, PolicyPath: path, Protected: h.protected,
		Prompter: prompter, PromptTimeout: h.opts.PromptTimeout, Emit: h.emit})
	tools := comp.Tools()
	wanted := make([]string, len(tools))
	for i, t := range tools {
		wanted[i] = t.Name
	}
	l.funcs = map[string]*component.Func{}
	l.tools = make([]ToolInfo, len(tools))
	for i, a := range h.names.Assign(l.id, wanted) {
		t := tools[i]
		l.tools[i] = ToolInfo{Name: a.Name, Component: l.id, Export: t.Func.Path, Description: t.Description,
			InputSchema: t.InputSchema, OutputSchema: t.OutputSchema, Unavailable: t.Unavailable, Note: a.Note}
		l.funcs[a.Name] = t.Func
	}
	pctx := withComponent(h.closeCtx, l.id)
	l.pool.Store(comp.NewPool(pctx, h.instantiateOptions(l), h.opts.PoolSize))
}

func (h *Host) instantiateOptions(l *loaded) component.InstantiateOptions {
	return h.limits(l).InstantiateOptions()
}

// limits are component l's limits: its policy's, its settings over them.
func (h *Host) limits(l *loaded) Limits {
	var pol *policy.Policy
	if l.gate != nil {
		pol = l.gate.Policy()
	}
	return LimitsFromPolicy(pol, LimitOverrides{Memory: l.settings.MemoryLimit, Timeout: l.settings.CallTimeout})
}

// rebuildToolsLocked recomputes the tool index. h.mu must be held.
func (h *Host) rebuildToolsLocked() {
	h.tools = map[string]*toolRef{}
	for _, l := range h.comps {
		for name, fn := range l.funcsIfReady() {
			h.tools[name] = &toolRef{comp: l, fn: fn}
		}
	}
}

func (l *loaded) funcsIfReady() map[string]*component.Func {
	select {
	case <-l.ready:
		if l.err == nil {
			return l.funcs
		}
	default:
	}
	return nil
}

func (h *Host) loadLock(id string) *sync.Mutex {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.loadLocks[id]
	if !ok {
		m = &sync.Mutex{}
		h.loadLocks[id] = m
	}
	return m
}

// Load fetches a component from uri (a path, file://, https:// or oci://),
// compiles it, and installs it under its id, replacing older code of that id
// atomically: calls already running finish on the old code.
//
// Grants belong to an id and the digest of its code: new code under an id
// whose policy grants something keeps those grants only when a person
// approves; a policy that arrives with the component is applied only when
// a person approves it (or TrustBundledPolicy is set), else kept as a
// proposal. LoadResult.Notes say what happened.
func (h *Host) Load(ctx context.Context, uri string, opts LoadOptions) (*LoadResult, error) {
	fopts := h.opts.Fetch
	fopts.Progress = opts.Progress
	fetched, err := store.Fetch(ctx, uri, fopts)
	if err != nil {
		return nil, err
	}
	id := fetched.ID
	lock := h.loadLock(id)
	lock.Lock()
	defer lock.Unlock()

	comp, err := h.rt.Compile(ctx, fetched.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", uri, err)
	}
	ok := false
	defer func() {
		if !ok {
			comp.Close(context.Background())
		}
	}()
	res := &LoadResult{}
	res.Notes = append(res.Notes, fetched.Warnings...)

	old, err := h.store.Get(id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	settings := store.Settings{}
	var polText []byte
	if old != nil {
		res.Reloaded = true
		settings = old.Settings
		settings.PendingPolicy = nil
		polText = old.Policy
		if old.Digest != fetched.Digest && hasRules(old.Policy) {
			carry, err := h.approve(ctx, AccessRequest{Component: id, Client: opts.Client, Proposal: string(old.Policy),
				Why: fmt.Sprintf("New code was loaded as %s (%s, was %s). Should it keep the permissions the old code had?", id, short(fetched.Digest), short(old.Digest))})
			if err != nil && !errors.Is(err, ErrNoOneToAsk) {
				return nil, err
			}
			if !carry {
				polText = nil
				res.Notes = append(res.Notes, "the new code does not inherit the old code's permissions (no one approved carrying them over); grant them again if it needs them")
			}
		}
	}
	if fetched.BundledPolicy != nil {
		if _, err := policy.Parse(fetched.BundledPolicy); err != nil {
			res.Notes = append(res.Notes, "the policy that came with the component does not parse and was ignored: "+err.Error())
		} else {
			trusted := opts.TrustBundledPolicy || h.opts.TrustBundledPolicy
			if !trusted {
				trusted, err = h.approve(ctx, AccessRequest{Component: id, Client: opts.Client, Proposal: string(fetched.BundledPolicy),
					Why: "This component came with a policy (from " + fetched.BundledPolicySource + "). Apply it?"})
				if err != nil && !errors.Is(err, ErrNoOneToAsk) {
					return nil, err
				}
			}
			if trusted {
				polText = fetched.BundledPolicy
				res.Notes = append(res.Notes, "applied the policy that came with the component ("+fetched.BundledPolicySource+")")
			} else {
				settings.PendingPolicy = &store.PendingPolicy{Policy: string(fetched.BundledPolicy), Source: fetched.BundledPolicySource, CodeDigest: fetched.Digest}
				res.Notes = append(res.Notes, "the component came with a policy that was not applied; approve it in the Tapedeck tray, or load with --trust-bundled-policy")
			}
		}
	}
	settings.Source = fetched.Source
	settings.GrantsDigest = fetched.Digest
	pol, err := h.policyFor(id, polText)
	if err != nil {
		return nil, err
	}

	l := &loaded{id: id, source: fetched.Source, digest: fetched.Digest, size: int64(len(fetched.Bytes)),
		settings: settings, ready: make(chan struct{}), at: time.Now()}
	h.finish(l, comp, pol, nil)
	res.Notes = append(res.Notes, h.limits(l).Warnings...)
	meta := &store.Metadata{}
	for _, t := range l.tools {
		raw, _ := json.Marshal(toolSchema{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema,
			OutputSchema: t.OutputSchema, Export: t.Export, Unavailable: t.Unavailable})
		meta.ToolSchemas = append(meta.ToolSchemas, raw)
		meta.ToolNames = append(meta.ToolNames, t.Name)
		ident, _ := json.Marshal(t.Export)
		meta.FunctionIdentifiers = append(meta.FunctionIdentifiers, ident)
		if t.Note != "" {
			res.Notes = append(res.Notes, t.Note)
		}
	}
	if err := h.store.Put(id, store.Entry{Wasm: fetched.Bytes, Policy: polText, Metadata: meta, Settings: settings}); err != nil {
		l.pool.Load().Close()
		if old == nil {
			h.names.Release(id)
		}
		return nil, fmt.Errorf("load %s: saving it: %w", uri, err)
	}
	h.mu.Lock()
	// The gate gets the prompter of the moment it becomes visible, so a
	// SetPrompter during the load is not missed.
	l.gate.setPrompter(h.prompter)
	close(l.ready)
	prev := h.comps[id]
	h.comps[id] = l
	h.rebuildToolsLocked()
	h.mu.Unlock()
	if prev != nil {
		h.retire(prev)
	}
	ok = true
	res.Component = l.info()
	h.emit(Event{Kind: EventLoaded, Component: id, Client: &opts.Client, Detail: fetched.Source})
	h.emit(Event{Kind: EventReady, Component: id})
	return res, nil
}

// retire lets a replaced component's in-flight calls finish on its code,
// then releases it.
func (h *Host) retire(l *loaded) {
	if pool := l.pool.Load(); pool != nil {
		pool.Close()
	}
	// Instances already handed out keep their compiled code alive through
	// wazero's own reference counting; closing the component releases it
	// once they close.
}

func hasRules(policyYAML []byte) bool {
	if len(policyYAML) == 0 {
		return false
	}
	p, err := policy.Parse(policyYAML)
	if err != nil {
		return true // unknown content: treat as grants, so a person decides
	}
	perms := p.Permissions()
	return len(perms.Storage.Allow)+len(perms.Network.Allow)+len(perms.Environment.Allow) > 0
}

func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

// approve asks a person to approve a proposal. It returns ErrNoOneToAsk
// when no one can be asked (headless, or a Prompter that cannot reach a
// person for it), and a ctx error when the request was cancelled; any
// other failure to get an answer is a refusal.
func (h *Host) approve(ctx context.Context, req AccessRequest) (bool, error) {
	p := h.currentPrompter()
	if p == nil {
		return false, ErrNoOneToAsk
	}
	req.ID = "p" + fmt.Sprint(askSeq.Add(1))
	req.Grant = true
	req.Asked = time.Now()
	timeout := h.opts.PromptTimeout
	if timeout <= 0 {
		timeout = DefaultPromptTimeout
	}
	req.Deadline = req.Asked.Add(timeout)
	h.emit(Event{Kind: EventAsked, Component: req.Component, Client: &req.Client, Detail: req.Why, Request: &req})
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ans, err := p.Ask(actx, req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if errors.Is(err, ErrNoOneToAsk) {
			return false, err
		}
		return false, nil
	}
	kind := EventDenied
	if ans.Allowed() {
		kind = EventAllowed
	}
	h.emit(Event{Kind: kind, Component: req.Component, Client: &req.Client, Detail: req.Why, Answer: ans.String()})
	return ans.Allowed(), nil
}

// Unload removes a component and everything of it: code, policy,
// metadata, settings and secrets.
func (h *Host) Unload(ctx context.Context, id string, by Client) error {
	lock := h.loadLock(id)
	lock.Lock()
	defer lock.Unlock()
	h.mu.Lock()
	l, ok := h.comps[id]
	if ok {
		delete(h.comps, id)
		h.rebuildToolsLocked()
	}
	h.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", ErrNoComponent, id)
	}
	h.names.Release(id)
	h.retire(l)
	var errs []error
	if err := h.store.Remove(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		errs = append(errs, err)
	}
	if h.opts.Secrets != nil {
		if err := h.opts.Secrets.DeleteAll(id); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("deleting the secrets of %s: %w", id, err))
		}
	}
	h.emit(Event{Kind: EventUnloaded, Component: id, Client: &by})
	return errors.Join(errs...)
}
