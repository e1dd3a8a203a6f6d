package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// Defaults of GateConfig.
const (
	// DefaultPromptTimeout is how long a question waits for a person before
	// it counts as denied.
	DefaultPromptTimeout = 60 * time.Second
	// ThrottleDenials denials of one component's questions within
	// ThrottleWindow make its further questions denied without asking for
	// ThrottleCooldown: a component cannot wear a person down with dialogs.
	ThrottleDenials  = 3
	ThrottleWindow   = time.Minute
	ThrottleCooldown = 30 * time.Second
)

// GateConfig configures a Gate.
type GateConfig struct {
	// Component is the id of the component whose accesses the gate decides.
	Component string
	// Policy is the component's policy; nil means an empty one (everything
	// is asked). The gate edits it when a person answers "always".
	Policy *policy.Policy
	// PolicyPath is where the policy is saved after such an edit; empty
	// keeps edits in memory.
	PolicyPath string
	// Protected are Tapedeck's own folders, refused whatever the policy says.
	Protected policy.Protected
	// Prompter asks a person when the policy is silent. nil: no one can be
	// asked (headless), and silence is deny.
	Prompter Prompter
	// PromptTimeout bounds each question; 0 means DefaultPromptTimeout.
	PromptTimeout time.Duration
	// Emit receives the gate's events (asked, allowed, denied, policy
	// changed); nil discards them. It must not block.
	Emit func(Event)
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}

// Gate decides the accesses of one component's calls: deny rules win,
// allow rules let through, and what the policy does not name is asked of a
// person through the Prompter. It is safe for concurrent use; a call gets
// its own view with ForCall.
type Gate struct {
	cfg GateConfig

	mu            sync.Mutex // guards the policy edits, the throttle and ask
	denials       []time.Time
	cooldownUntil time.Time
	ask           Prompter // starts as cfg.Prompter; the Host changes it when the tray comes and goes
}

func (g *Gate) setPrompter(p Prompter) {
	g.mu.Lock()
	g.ask = p
	g.mu.Unlock()
}

func (g *Gate) prompter() Prompter {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ask
}

var askSeq atomic.Uint64

// NewGate returns a gate configured by cfg.
func NewGate(cfg GateConfig) *Gate {
	if cfg.Policy == nil {
		cfg.Policy = policy.New()
	}
	if cfg.PromptTimeout <= 0 {
		cfg.PromptTimeout = DefaultPromptTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gate{cfg: cfg, ask: cfg.Prompter}
}

// Policy returns the policy the gate decides by.
func (g *Gate) Policy() *policy.Policy { return g.cfg.Policy }

// ForCall returns the access.Checker for one call of tool by client.
// Answers given during the call are remembered for the rest of it, so the
// same access is asked once per call.
func (g *Gate) ForCall(tool string, client Client) *CallGate {
	return &CallGate{g: g, tool: tool, client: client, answers: map[string]*pending{}}
}

// CallGate is a Gate bound to one call. It implements access.Checker.
type CallGate struct {
	g      *Gate
	tool   string
	client Client

	mu      sync.Mutex
	answers map[string]*pending // by access text
	denied  []*access.DeniedError
}

// pending is one question: its answer once done is closed.
type pending struct {
	done    chan struct{}
	allowed bool
	err     error
}

// Denials returns what was denied during the call, in order, for the tool
// result's message.
func (c *CallGate) Denials() []*access.DeniedError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*access.DeniedError(nil), c.denied...)
}

func (c *CallGate) deny(err *access.DeniedError) error {
	c.mu.Lock()
	c.denied = append(c.denied, err)
	c.mu.Unlock()
	c.g.emit(Event{Kind: EventDenied, Component: c.g.cfg.Component, Tool: c.tool, Client: &c.client,
		Access: err.Access.String(), Detail: err.Reason})
	return err
}

// Check implements access.Checker.
func (c *CallGate) Check(ctx context.Context, a policy.Access) error {
	if _, isEnv := a.(policy.Env); isEnv {
		// The environment is fixed when an instance starts: it is never
		// asked, only decided.
		return c.decideOnly(a)
	}
	d := c.g.cfg.Policy.Decide(a, c.g.cfg.Protected)
	switch d.Verdict {
	case policy.Allow:
		return nil
	case policy.Deny:
		return c.deny(&access.DeniedError{Access: a, Reason: d.String(), Hint: hint(c.g.cfg.Component, a, d)})
	}
	key := a.String()
	c.mu.Lock()
	p, asked := c.answers[key]
	if !asked {
		p = &pending{done: make(chan struct{})}
		c.answers[key] = p
	}
	c.mu.Unlock()
	if !asked {
		p.allowed, p.err = c.ask(ctx, a)
		close(p.done)
	} else {
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if p.allowed {
		return nil
	}
	if p.err != nil {
		return p.err
	}
	return &access.DeniedError{Access: a, Reason: "denied earlier in this call", Hint: hint(c.g.cfg.Component, a, d)}
}

func (c *CallGate) decideOnly(a policy.Access) error {
	d := c.g.cfg.Policy.Decide(a, c.g.cfg.Protected)
	if d.Verdict == policy.Allow {
		return nil
	}
	return &access.DeniedError{Access: a, Reason: d.String(), Hint: hint(c.g.cfg.Component, a, d)}
}

// ask puts the question to the person and applies the answer.
func (c *CallGate) ask(ctx context.Context, a policy.Access) (bool, error) {
	g := c.g
	cfg := g.cfg
	prompter := g.prompter()
	if prompter == nil {
		return false, c.deny(&access.DeniedError{Access: a,
			Reason: "the policy does not allow it and no one is there to ask (Tapedeck is running headless)",
			Hint:   hint(cfg.Component, a, policy.Decision{})})
	}
	if until := g.throttled(); !until.IsZero() {
		return false, c.deny(&access.DeniedError{Access: a,
			Reason: fmt.Sprintf("%s was denied %d times in a row; its questions are refused without asking until %s",
				cfg.Component, ThrottleDenials, until.Format(time.TimeOnly)),
			Hint: hint(cfg.Component, a, policy.Decision{})})
	}
	now := cfg.Now()
	req := AccessRequest{
		ID:                 "q" + strconv.FormatUint(askSeq.Add(1), 10),
		Component:          cfg.Component,
		Tool:               c.tool,
		Client:             c.client,
		Access:             a,
		Why:                why(a),
		AllowAlwaysOffered: true,
		Asked:              now,
		Deadline:           now.Add(cfg.PromptTimeout),
	}
	if s, ok := a.(policy.Storage); ok {
		req.Folder = filepath.Dir(s.Path)
	}
	g.emit(Event{Kind: EventAsked, Component: cfg.Component, Tool: c.tool, Client: &c.client, Access: a.String(), Request: &req})
	actx, cancel := context.WithTimeout(ctx, cfg.PromptTimeout)
	ans, err := prompter.Ask(actx, req)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			// The call itself was cancelled while the question was open.
			return false, ctx.Err()
		}
		if errors.Is(err, ErrNoOneToAsk) {
			return false, c.deny(&access.DeniedError{Access: a,
				Reason: "the policy does not allow it and no one could be asked",
				Hint:   hint(cfg.Component, a, policy.Decision{})})
		}
		reason := "the question could not be asked: " + err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			reason = fmt.Sprintf("no answer within %s", cfg.PromptTimeout)
		}
		g.noteDenial()
		return false, c.deny(&access.DeniedError{Access: a, Reason: reason, Hint: hint(cfg.Component, a, policy.Decision{})})
	}
	if err := g.applyAnswer(a, ans, req.Folder); err != nil {
		g.emit(Event{Kind: EventFailed, Component: cfg.Component, Detail: "saving the answer into the policy: " + err.Error(), IsError: true})
	}
	if ans.Allowed() {
		g.emit(Event{Kind: EventAllowed, Component: cfg.Component, Tool: c.tool, Client: &c.client, Access: a.String(), Answer: ans.String()})
		return true, nil
	}
	g.noteDenial()
	return false, c.deny(&access.DeniedError{Access: a, Reason: "the person answered " + ans.String(), Hint: hint(cfg.Component, a, policy.Decision{})})
}

// applyAnswer writes an "always" answer into the policy, as the narrowest
// rule that covers what was asked, and saves it.
func (g *Gate) applyAnswer(a policy.Access, ans Answer, folder string) error {
	list := policy.AllowList
	switch ans {
	case AllowAlways, AllowFolderAlways:
	case DenyAlways:
		list = policy.DenyList
	default:
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	pol := g.cfg.Policy
	var err error
	switch a := a.(type) {
	case policy.Network:
		var host string
		if host, err = policy.NetworkHost(a); err == nil {
			err = pol.AddNetwork(list, host)
		}
	case policy.Storage:
		mode := policy.Read
		if a.Write {
			mode = policy.Write
		}
		path, isFolder := a.Path, false
		if ans == AllowFolderAlways && folder != "" {
			path, isFolder = folder, true
		}
		var uri string
		if uri, err = policy.StorageURI(path, isFolder); err == nil {
			err = pol.AddStorage(list, uri, mode)
		}
	case policy.Config:
		err = pol.AddEnvironment(list, a.Key)
	case policy.Env:
		err = pol.AddEnvironment(list, a.Key)
	}
	if err == nil && g.cfg.PolicyPath != "" {
		err = pol.Save(g.cfg.PolicyPath)
	}
	if err == nil {
		g.emit(Event{Kind: EventPolicyChanged, Component: g.cfg.Component, Access: a.String(), Answer: ans.String()})
	}
	return err
}

// Edit changes the policy under the gate's lock, saves it, and reports the
// change. A failed edit or save leaves the file as it was.
func (g *Gate) Edit(what string, edit func(*policy.Policy) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := edit(g.cfg.Policy); err != nil {
		return err
	}
	if g.cfg.PolicyPath != "" {
		if err := g.cfg.Policy.Save(g.cfg.PolicyPath); err != nil {
			return err
		}
	}
	g.emit(Event{Kind: EventPolicyChanged, Component: g.cfg.Component, Detail: what})
	return nil
}

// noteDenial counts a denied question toward the throttle.
func (g *Gate) noteDenial() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	kept := g.denials[:0]
	for _, t := range g.denials {
		if now.Sub(t) < ThrottleWindow {
			kept = append(kept, t)
		}
	}
	g.denials = append(kept, now)
	if len(g.denials) >= ThrottleDenials {
		g.cooldownUntil = now.Add(ThrottleCooldown)
		g.denials = nil
		g.emit(Event{Kind: EventDenied, Component: g.cfg.Component,
			Detail: fmt.Sprintf("%d questions in a row were denied: further questions are refused without asking for %s", ThrottleDenials, ThrottleCooldown)})
	}
}

// throttled returns when the cool-down ends, or zero when there is none.
func (g *Gate) throttled() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cfg.Now().Before(g.cooldownUntil) {
		return g.cooldownUntil
	}
	return time.Time{}
}

func (g *Gate) emit(e Event) {
	if g.cfg.Emit != nil {
		if e.Time.IsZero() {
			e.Time = g.cfg.Now()
		}
		g.cfg.Emit(e)
	}
}

// CheckAddress implements access.Checker: a resolved address is refused
// unless it is public or the policy names it.
func (c *CallGate) CheckAddress(ctx context.Context, scheme string, ip netip.Addr, port uint16) error {
	d := c.g.cfg.Policy.DecideAddress(scheme, ip, port)
	if d.Verdict == policy.Allow {
		return nil
	}
	a := policy.Network{Scheme: scheme, Host: ip.String(), Port: port}
	return c.deny(&access.DeniedError{Access: a, Reason: d.String(), Hint: hint(c.g.cfg.Component, a, d)})
}

// why says in plain words why an access matters, for the dialog.
func why(a policy.Access) string {
	switch a := a.(type) {
	case policy.Network:
		return "The tool wants to connect to " + a.String() + ". What it sends there, and what it gets back, leaves your computer or reaches a service on it."
	case policy.Storage:
		if a.Write {
			return "The tool wants to change or create " + a.Path + "."
		}
		return "The tool wants to read " + a.Path + ". What it reads can end up in the AI's context."
	case policy.Config, policy.Env:
		return "The tool wants the value of " + a.String() + ", which may hold a credential."
	}
	return ""
}

// hint says how a person allows a refused access, or nothing when the
// refusal is final (a protected folder, a deny rule).
func hint(component string, a policy.Access, d policy.Decision) string {
	if d.Verdict == policy.Deny && d.Rule != "" {
		return fmt.Sprintf("the policy's %s denies it: remove that rule with `tapedeck permission revoke …` to change this", d.Rule)
	}
	if d.Verdict == policy.Deny && d.Reason != "" && d.Rule == "" {
		if _, ok := a.(policy.Storage); ok {
			return ""
		}
	}
	switch a := a.(type) {
	case policy.Network:
		host, err := policy.NetworkHost(a)
		if err != nil {
			host = a.Host
		}
		return fmt.Sprintf("to allow it: `tapedeck permission grant network %s %s`, the grant-network-permission tool, or Allow in the Tapedeck tray", component, host)
	case policy.Storage:
		mode := "read"
		if a.Write {
			mode = "write"
		}
		uri, err := policy.StorageURI(a.Path, false)
		if err != nil {
			uri = "fs://" + a.Path
		}
		return fmt.Sprintf("to allow it: `tapedeck permission grant storage %s %s --access %s`, the grant-storage-permission tool, or Allow in the Tapedeck tray", component, uri, mode)
	case policy.Env:
		return fmt.Sprintf("to allow it: `tapedeck permission grant environment-variable %s %s` (then set its value with `tapedeck secret set %s %s`)", component, a.Key, component, a.Key)
	case policy.Config:
		return fmt.Sprintf("to allow it: `tapedeck permission grant environment-variable %s %s`", component, a.Key)
	}
	return ""
}

var _ access.Checker = (*CallGate)(nil)
