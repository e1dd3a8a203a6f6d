package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

var person = sandbox.Client{Name: "tapedeck", Transport: "cli"}
var agent = sandbox.Client{Name: "claude-code", Transport: "socket", PID: 4121, Process: "claude"}

func newHost(t *testing.T, dir string, opts sandbox.Options) *sandbox.Host {
	t.Helper()
	opts.Dir = dir
	opts.CacheDir = testcomponents.CacheDir(t)
	h, err := sandbox.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// copyComponent puts a test component where a person would load it from.
func copyComponent(t *testing.T, name, to string) string {
	t.Helper()
	data, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return to
}

func call(t *testing.T, h *sandbox.Host, tool, args string) *sandbox.CallResult {
	t.Helper()
	res, err := h.Call(context.Background(), sandbox.CallRequest{Tool: tool, Args: json.RawMessage(args), Client: agent})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	return res
}

func TestHostLoadCallUnload(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{})
	events := h.Subscribe(context.Background())
	src := copyComponent(t, "c-tool", filepath.Join(t.TempDir(), "calc.wasm"))
	res, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person})
	if err != nil {
		t.Fatal(err)
	}
	if res.Component.ID != "calc" || res.Component.State != sandbox.StateReady || res.Reloaded {
		t.Fatalf("load result = %+v", res)
	}
	var names []string
	for _, tl := range h.Tools() {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "add,count-words,greet,reverse" {
		t.Fatalf("tools = %v", names)
	}
	if got := call(t, h, "add", `{"a": 20, "b": 22}`); got.IsError || string(got.Structured) != `{"result":42}` || got.Text != "42" {
		t.Fatalf("add = %+v", got)
	}
	bad := call(t, h, "add", `{"a": "x", "b": 1}`)
	if !bad.IsError || !strings.Contains(bad.Text, "bad arguments") {
		t.Fatalf("bad arguments = %+v, want an error result", bad)
	}
	if _, err := h.Call(context.Background(), sandbox.CallRequest{Tool: "nope"}); !errors.Is(err, sandbox.ErrNoTool) {
		t.Fatalf("unknown tool: err = %v", err)
	}
	for _, f := range []string{"calc.wasm", "calc.metadata.json", "calc.tapedeck.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after load: %v", err)
		}
	}
	if err := h.Unload(context.Background(), "calc", person); err != nil {
		t.Fatal(err)
	}
	if len(h.Tools()) != 0 {
		t.Fatalf("tools after unload: %v", h.Tools())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "calc.") {
			t.Errorf("left behind after unload: %s", e.Name())
		}
	}
	seen := map[sandbox.EventKind]bool{}
	timeout := time.After(5 * time.Second)
	for !seen[sandbox.EventUnloaded] {
		select {
		case e := <-events:
			seen[e.Kind] = true
		case <-timeout:
			t.Fatalf("events seen: %v; want loaded, call-finished, unloaded", seen)
		}
	}
	for _, k := range []sandbox.EventKind{sandbox.EventLoaded, sandbox.EventCallStarted, sandbox.EventCallFinished} {
		if !seen[k] {
			t.Errorf("no %s event", k)
		}
	}
}

func TestHostRestartListsToolsFromMetadata(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{})
	src := copyComponent(t, "rust-tool", filepath.Join(t.TempDir(), "rusty.wasm"))
	if _, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	h.Close(context.Background())

	h2 := newHost(t, dir, sandbox.Options{})
	// Listed at once, from metadata, before compiling finishes.
	var names []string
	for _, tl := range h2.Tools() {
		names = append(names, tl.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "fib") {
		t.Fatalf("tools right after start = %v, want fib among them", names)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := h2.Call(context.Background(), sandbox.CallRequest{Tool: "fib", Args: json.RawMessage(`{"n": 10}`)})
		if err == nil {
			if string(res.Structured) != `{"result":55}` {
				t.Fatalf("fib(10) = %+v", res)
			}
			break
		}
		if !errors.Is(err, sandbox.ErrNoTool) || time.Now().After(deadline) {
			t.Fatalf("fib after restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostAgentGrantsNeedAPerson(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{})
	src := copyComponent(t, "c-tool", filepath.Join(t.TempDir(), "calc.wasm"))
	if _, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	perm := sandbox.Permission{Kind: sandbox.PermissionNetwork, Host: "api.example.com"}
	err := h.Grant(context.Background(), "calc", perm, agent)
	if !errors.Is(err, sandbox.ErrAgentGrantRefused) || !strings.Contains(err.Error(), "tapedeck permission grant network calc api.example.com") {
		t.Fatalf("headless agent grant: err = %v", err)
	}
	var asked sandbox.AccessRequest
	h.SetPrompter(sandbox.PrompterFunc(func(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
		asked = req
		return sandbox.Deny, nil
	}))
	if err := h.Grant(context.Background(), "calc", perm, agent); !errors.Is(err, sandbox.ErrDenied) {
		t.Fatalf("denied agent grant: err = %v", err)
	}
	if !asked.Grant || asked.Client.PID != 4121 {
		t.Fatalf("question = %+v, want a grant request naming the agent's process", asked)
	}
	if err := h.Grant(context.Background(), "calc", perm, person); err != nil {
		t.Fatalf("a person's grant: %v", err)
	}
	pi, err := h.Policy("calc")
	if err != nil || !strings.Contains(pi.YAML, "api.example.com") {
		t.Fatalf("policy after grant = %+v, %v", pi, err)
	}
	if err := h.Revoke(context.Background(), "calc", perm, agent); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	pi, _ = h.Policy("calc")
	if strings.Contains(pi.YAML, "api.example.com") {
		t.Fatalf("policy after revoke still grants it:\n%s", pi.YAML)
	}
}

func TestHostNewCodeDoesNotInheritGrants(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{})
	src := filepath.Join(t.TempDir(), "tool.wasm")
	copyComponent(t, "c-tool", src)
	if _, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	if err := h.Grant(context.Background(), "tool", sandbox.Permission{Kind: sandbox.PermissionEnvironment, Key: "API_KEY"}, person); err != nil {
		t.Fatal(err)
	}
	// Same id, different code.
	copyComponent(t, "c-tool-old", src)
	res, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: agent})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reloaded || !strings.Contains(strings.Join(res.Notes, "\n"), "does not inherit") {
		t.Fatalf("reload result = %+v, want a note that grants were not carried over", res)
	}
	pi, _ := h.Policy("tool")
	if strings.Contains(pi.YAML, "API_KEY") {
		t.Fatalf("new code inherited the old grants:\n%s", pi.YAML)
	}
}

func TestHostBundledPolicyIsAProposal(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{})
	srcDir := t.TempDir()
	src := copyComponent(t, "c-tool", filepath.Join(srcDir, "calc.wasm"))
	bundled := "version: \"1.0\"\npermissions:\n  network:\n    allow: [{host: \"api.example.com\"}]\n"
	if err := os.WriteFile(filepath.Join(srcDir, "calc.policy.yaml"), []byte(bundled), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: agent})
	if err != nil {
		t.Fatal(err)
	}
	pi, _ := h.Policy("calc")
	if strings.Contains(pi.YAML, "api.example.com") || !strings.Contains(strings.Join(res.Notes, "\n"), "not applied") {
		t.Fatalf("headless load applied a bundled policy: notes %v, policy:\n%s", res.Notes, pi.YAML)
	}
	if _, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person, TrustBundledPolicy: true}); err != nil {
		t.Fatal(err)
	}
	pi, _ = h.Policy("calc")
	if !strings.Contains(pi.YAML, "api.example.com") {
		t.Fatalf("trusted bundled policy not applied:\n%s", pi.YAML)
	}
}

func TestHostEnvironmentOnlyAllowedKeys(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{Env: map[string]string{"API_KEY": "from-tapedeck", "HOME": "/root", "OTHER": "x"}})
	src := copyComponent(t, "c-env", filepath.Join(t.TempDir(), "envtool.wasm"))
	if _, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	if got := call(t, h, "env-keys", `{}`); string(got.Structured) != `{"result":[]}` {
		t.Fatalf("env-keys with no policy = %s, want none", got.Structured)
	}
	if err := h.Grant(context.Background(), "envtool", sandbox.Permission{Kind: sandbox.PermissionEnvironment, Key: "API_KEY"}, person); err != nil {
		t.Fatal(err)
	}
	if got := call(t, h, "env-keys", `{}`); string(got.Structured) != `{"result":["API_KEY"]}` {
		t.Fatalf("env-keys with API_KEY allowed = %s", got.Structured)
	}
	if got := call(t, h, "get-env", `{"key": "API_KEY"}`); string(got.Structured) != `{"result":"from-tapedeck"}` {
		t.Fatalf("get-env API_KEY = %s", got.Structured)
	}
}

func TestHostPauseHoldsCallsUntilResume(t *testing.T) {
	h := newHost(t, t.TempDir(), sandbox.Options{})
	events := h.Subscribe(context.Background())
	src := copyComponent(t, "c-tool", filepath.Join(t.TempDir(), "calc.wasm"))
	if _, err := h.Load(context.Background(), src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	h.Pause()
	if !h.Paused() {
		t.Fatal("Paused() = false after Pause")
	}
	// A call while paused waits: cancelled, it ends with its ctx's error
	// and never runs.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Call(ctx, sandbox.CallRequest{Tool: "add", Args: json.RawMessage(`{"a":1,"b":2}`)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("call while paused: err = %v, want context.Canceled", err)
	}
	h.Resume()
	if got := call(t, h, "add", `{"a": 1, "b": 2}`); string(got.Structured) != `{"result":3}` {
		t.Fatalf("add after Resume = %s", got.Structured)
	}
	seen := map[sandbox.EventKind]bool{}
	timeout := time.After(5 * time.Second)
	for !seen[sandbox.EventPaused] || !seen[sandbox.EventResumed] {
		select {
		case e := <-events:
			seen[e.Kind] = true
		case <-timeout:
			t.Fatalf("events seen: %v; want paused and resumed", seen)
		}
	}
}
