package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

func mustPolicy(t *testing.T, yaml string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// answering is a Prompter that gives a fixed answer and counts questions.
type answering struct {
	ans   Answer
	asked atomic.Int32
	last  AccessRequest
	mu    sync.Mutex
}

func (a *answering) Ask(ctx context.Context, req AccessRequest) (Answer, error) {
	a.asked.Add(1)
	a.mu.Lock()
	a.last = req
	a.mu.Unlock()
	return a.ans, nil
}

var (
	api  = policy.Network{Scheme: "https", Host: "api.example.com", Port: 443}
	evil = policy.Network{Scheme: "https", Host: "internal.example.com", Port: 443}
)

func TestGateFollowsThePolicy(t *testing.T) {
	pol := mustPolicy(t, `version: "1.0"
permissions:
  network:
    allow: [{host: "api.example.com"}]
    deny: [{host: "internal.example.com"}]
`)
	p := &answering{ans: AllowOnce}
	g := NewGate(GateConfig{Component: "c", Policy: pol, Prompter: p})
	cg := g.ForCall("tool", Client{Name: "test"})
	if err := cg.Check(context.Background(), api); err != nil {
		t.Errorf("allowed host refused: %v", err)
	}
	err := cg.Check(context.Background(), evil)
	var de *access.DeniedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "permissions.network.deny[0]") {
		t.Errorf("denied host: err = %v, want a DeniedError naming the rule", err)
	}
	if p.asked.Load() != 0 {
		t.Errorf("the person was asked %d times about accesses the policy settles", p.asked.Load())
	}
}

func TestGateAsksOncePerCall(t *testing.T) {
	p := &answering{ans: AllowOnce}
	g := NewGate(GateConfig{Component: "c", Prompter: p})
	cg := g.ForCall("fetch", Client{Name: "claude", PID: 42, Process: "claude"})
	for range 3 {
		if err := cg.Check(context.Background(), api); err != nil {
			t.Fatalf("allow once: %v", err)
		}
	}
	if n := p.asked.Load(); n != 1 {
		t.Fatalf("asked %d times in one call, want 1", n)
	}
	if p.last.Component != "c" || p.last.Tool != "fetch" || p.last.Client.PID != 42 || p.last.Access != api {
		t.Errorf("question = %+v, want component, tool, client and access filled in", p.last)
	}
	// Allow once is not remembered across calls.
	if err := g.ForCall("fetch", Client{}).Check(context.Background(), api); err != nil {
		t.Fatal(err)
	}
	if n := p.asked.Load(); n != 2 {
		t.Fatalf("a new call was not asked again (asked %d times)", n)
	}
}

func TestGateAllowAlwaysWritesTheNarrowestRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.policy.yaml")
	orig := "# my policy: keep this comment\nversion: \"1.0\"\npermissions:\n  network:\n    allow: [{host: \"other.example.com\"}] # and this one\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &answering{ans: AllowAlways}
	var events []Event
	g := NewGate(GateConfig{Component: "c", Policy: pol, PolicyPath: path, Prompter: p,
		Emit: func(e Event) { events = append(events, e) }})
	if err := g.ForCall("t", Client{}).Check(context.Background(), api); err != nil {
		t.Fatal(err)
	}
	// A later call is allowed by the new rule, without asking.
	if err := g.ForCall("t", Client{}).Check(context.Background(), api); err != nil || p.asked.Load() != 1 {
		t.Fatalf("second call: err %v, asked %d; want allowed without asking", err, p.asked.Load())
	}
	// Only the asked host, scheme and port were allowed.
	if err := g.ForCall("t", Client{}).Check(context.Background(), policy.Network{Scheme: "http", Host: "api.example.com", Port: 80}); err == nil && p.asked.Load() == 1 {
		t.Fatal("allow always on https://api.example.com also allowed plain http without asking")
	}
	saved, _ := os.ReadFile(path)
	for _, want := range []string{"# my policy: keep this comment", "# and this one", "https://api.example.com"} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved policy lacks %q:\n%s", want, saved)
		}
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, string(e.Kind))
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "asked,policy-changed,allowed") {
		t.Errorf("events = %s, want asked, policy-changed, allowed first", got)
	}
}

func TestGateDenyAndThrottle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := &answering{ans: Deny}
	g := NewGate(GateConfig{Component: "c", Prompter: p, Now: func() time.Time { return now }})
	hosts := []string{"a.example", "b.example", "c.example", "d.example"}
	for _, h := range hosts[:ThrottleDenials] {
		err := g.ForCall("t", Client{}).Check(context.Background(), policy.Network{Scheme: "https", Host: h, Port: 443})
		if !access.IsDenied(err) || !strings.Contains(err.Error(), "answered deny") {
			t.Fatalf("%s: err = %v, want denied by the person", h, err)
		}
	}
	err := g.ForCall("t", Client{}).Check(context.Background(), policy.Network{Scheme: "https", Host: hosts[3], Port: 443})
	if !access.IsDenied(err) || !strings.Contains(err.Error(), "refused without asking") {
		t.Fatalf("after %d denials: err = %v, want throttled", ThrottleDenials, err)
	}
	if n := p.asked.Load(); n != ThrottleDenials {
		t.Fatalf("asked %d times, want %d (the throttled question is not asked)", n, ThrottleDenials)
	}
	now = now.Add(ThrottleCooldown + time.Second)
	p.ans = AllowOnce
	if err := g.ForCall("t", Client{}).Check(context.Background(), policy.Network{Scheme: "https", Host: hosts[3], Port: 443}); err != nil {
		t.Fatalf("after the cool-down: %v", err)
	}
}

func TestGateHeadlessSilenceIsDeny(t *testing.T) {
	g := NewGate(GateConfig{Component: "c"})
	err := g.ForCall("t", Client{}).Check(context.Background(), api)
	if !access.IsDenied(err) || !strings.Contains(err.Error(), "headless") || !strings.Contains(err.Error(), "tapedeck permission grant network c https://api.example.com") {
		t.Fatalf("headless: err = %v, want a denial that says how to grant", err)
	}
}

func TestGateTimeoutIsDeny(t *testing.T) {
	slow := PrompterFunc(func(ctx context.Context, req AccessRequest) (Answer, error) {
		<-ctx.Done()
		return Deny, ctx.Err()
	})
	g := NewGate(GateConfig{Component: "c", Prompter: slow, PromptTimeout: 20 * time.Millisecond})
	err := g.ForCall("t", Client{}).Check(context.Background(), api)
	if !access.IsDenied(err) || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("err = %v, want denied for want of an answer", err)
	}
}

func TestGateCancelledCallEndsTheQuestion(t *testing.T) {
	opened := make(chan struct{})
	slow := PrompterFunc(func(ctx context.Context, req AccessRequest) (Answer, error) {
		close(opened)
		<-ctx.Done()
		return Deny, ctx.Err()
	})
	g := NewGate(GateConfig{Component: "c", Prompter: slow})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-opened; cancel() }()
	err := g.ForCall("t", Client{}).Check(ctx, api)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestGateProtectedFoldersStayRefused(t *testing.T) {
	data := t.TempDir()
	prot, err := policy.NewProtected(data)
	if err != nil {
		t.Fatal(err)
	}
	pol := mustPolicy(t, `version: "1.0"
permissions:
  storage:
    allow: [{uri: "fs:///**", access: [read, write]}]
`)
	p := &answering{ans: AllowAlways}
	g := NewGate(GateConfig{Component: "c", Policy: pol, Protected: prot, Prompter: p})
	for _, write := range []bool{false, true} {
		err := g.ForCall("t", Client{}).Check(context.Background(), policy.Storage{Path: filepath.Join(data, "components", "x.wasm"), Write: write})
		if !access.IsDenied(err) {
			t.Errorf("write=%v inside Tapedeck's data folder: err = %v, want denied", write, err)
		}
	}
	if p.asked.Load() != 0 {
		t.Error("the person was asked about a protected folder")
	}
	if err := g.ForCall("t", Client{}).Check(context.Background(), policy.Storage{Path: filepath.Join(filepath.Dir(data), "elsewhere")}); err != nil {
		t.Errorf("a granted path outside the protected folder: %v", err)
	}
}

func TestGateEnvironmentIsNeverAsked(t *testing.T) {
	p := &answering{ans: AllowAlways}
	g := NewGate(GateConfig{Component: "c", Prompter: p})
	if err := g.ForCall("t", Client{}).Check(context.Background(), policy.Env{Key: "HOME"}); !access.IsDenied(err) {
		t.Fatalf("env key the policy does not name: err = %v, want denied", err)
	}
	if p.asked.Load() != 0 {
		t.Fatal("an environment variable was asked")
	}
}
