package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/sandbox"
)

// startOwner makes the test the owner of the session's data dir, serving
// its MCP socket (and, withControl, its control socket) as `tapedeck serve`
// does, until the test ends. The verbs then find the data dir owned and go
// through the sockets.
func (s *session) startOwner(withControl bool) *owner.Owner {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dirs, err := paths.Resolve(paths.Options{DataDir: s.data, Getenv: func(string) string { return "" }})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := paths.Ensure(dirs); err != nil {
		s.t.Fatal(err)
	}
	lock, err := ownerlock.Acquire(dirs.Data)
	if err != nil {
		s.t.Fatal(err)
	}
	o, err := owner.Open(ctx, owner.Options{Dirs: dirs, SecretsFileOnly: true})
	if err != nil {
		s.t.Fatal(err)
	}
	srv := mcpbridge.New(o.Host, mcpbridge.Options{Version: Version})
	ln, err := mcpbridge.ListenSocket(paths.SocketPath(dirs), lock)
	if err != nil {
		s.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.ServeSocket(ctx, ln); err != nil {
			s.t.Errorf("serving the socket: %v", err)
		}
	}()
	if withControl {
		cln, err := control.Listen(control.SocketPath(paths.SocketPath(dirs)), lock)
		if err != nil {
			s.t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := control.Serve(ctx, cln, o); err != nil {
				s.t.Errorf("serving the control socket: %v", err)
			}
		}()
	}
	s.t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.Close()
		o.Close(context.Background())
		lock.Close()
	})
	return o
}

// TestVerbsThroughRunningOwner: with an owner running that serves no
// control socket, the verbs reach its Host through the MCP socket (the
// test's Host sees the changes at once), and the ones that need the
// person's authority refuse, saying what to do, without changing anything.
func TestVerbsThroughRunningOwner(t *testing.T) {
	s := newSession(t)
	o := s.startOwner(false)
	s.loadCalc()
	if got := o.Host.List(); len(got) != 1 || got[0].ID != "calc" {
		t.Fatalf("the owner's Host did not get the load: %+v", got)
	}

	if out := s.must("component", "list"); !strings.Contains(out, "calc") {
		t.Errorf("component list through the socket:\n%s", out)
	}
	if out := s.must("tool", "invoke", "add", "--args", `{"a":20,"b":22}`); !strings.Contains(out, "42") {
		t.Errorf("tool invoke through the socket = %q", out)
	}
	if out := s.must("tool", "read", "add", "-o", "json"); !strings.Contains(out, `"inputSchema"`) {
		t.Errorf("tool read through the socket:\n%s", out)
	}

	// What only the person may do is refused with the owner's pid.
	if err := o.Host.Grant(context.Background(), "calc", sandbox.Permission{Kind: sandbox.PermissionNetwork, Host: "api.example.com"}, person); err != nil {
		t.Fatal(err)
	}
	before := s.files()
	pid := fmt.Sprintf("pid %d", os.Getpid())
	for _, args := range [][]string{
		{"permission", "grant", "network", "calc", "other.example.com", "--yes"},
		{"secret", "set", "calc", "K", "v", "--yes"},
		{"secret", "list", "calc"},
		{"component", "disable", "calc"},
		{"component", "load", "/nonexistent.wasm", "--trust-bundled-policy", "--yes"},
	} {
		t.Run(strings.Join(args[:2], "_"), func(t *testing.T) {
			r := s.run(args...)
			if r.code != ExitFailure || !strings.Contains(r.err, pid) || !strings.Contains(r.err, "tray") {
				t.Errorf("exit %d, %q: want 1 naming the owner (%s) and the tray", r.code, r.err, pid)
			}
		})
	}
	sameFiles(t, before, s.files())

	if out := s.must("policy", "get", "calc"); !strings.Contains(out, "api.example.com") {
		t.Errorf("policy get through the socket:\n%s", out)
	}
	s.must("permission", "revoke", "network", "calc", "api.example.com")
	if p, _ := o.Host.Policy("calc"); strings.Contains(p.YAML, "api.example.com") {
		t.Errorf("revoke through the socket did not reach the Host:\n%s", p.YAML)
	}
	s.must("permission", "reset", "calc")
	if r := s.run("component", "unload", "nope"); r.code != ExitFailure {
		t.Errorf("unloading an unknown id through the socket: exit %d, want 1", r.code)
	}
	s.must("component", "unload", "calc")
	if got := o.Host.List(); len(got) != 0 {
		t.Errorf("after unload through the socket the Host still has %+v", got)
	}
}

// TestAuthorityThroughControlSocket: with an owner serving its control
// socket, grants, secrets, enable/disable and trusted loads reach its Host
// as the person's, after the same confirmation, and land in its log.
func TestAuthorityThroughControlSocket(t *testing.T) {
	s := newSession(t)
	o := s.startOwner(true)
	s.loadCalc()
	ctx := context.Background()

	before := s.files()
	if r := s.runWith("n\n", true, "permission", "grant", "network", "calc", "api.example.com"); r.code != ExitFailure {
		t.Errorf("refused confirmation: exit %d, want 1", r.code)
	}
	sameFiles(t, before, s.files())

	s.must("permission", "grant", "network", "calc", "api.example.com", "--yes")
	if p, _ := o.Host.Policy("calc"); !strings.Contains(p.YAML, "api.example.com") {
		t.Errorf("the owner's policy lacks the grant:\n%s", p.YAML)
	}
	s.must("secret", "set", "calc", "API_KEY", "s3cret-token", "--yes")
	if keys, _ := o.Secrets.List("calc"); strings.Join(keys, ",") != "API_KEY" {
		t.Errorf("the owner's secrets = %v", keys)
	}
	if out := s.must("secret", "list", "calc"); strings.TrimSpace(out) != "API_KEY" {
		t.Errorf("secret list = %q", out)
	}
	s.must("secret", "delete", "calc", "API_KEY")
	if r := s.run("secret", "set", "nope", "K", "v", "--yes"); r.code != ExitFailure || !strings.Contains(r.err, "no such component") {
		t.Errorf("secret of an unknown component: exit %d %q", r.code, r.err)
	}

	s.must("component", "disable", "calc")
	if res, err := o.Host.Call(ctx, sandbox.CallRequest{Tool: "add", Args: []byte(`{"a":1,"b":2}`)}); err != nil || !res.IsError {
		t.Errorf("the owner still calls a disabled component: %+v %v", res, err)
	}
	s.must("component", "enable", "calc")

	var grants []struct {
		Client string            `json:"client"`
		Detail map[string]string `json:"detail"`
	}
	decode(t, s.must("logs", "--kind", "grant,secret,setting", "-o", "json"), &grants)
	var recorded []string
	for _, e := range grants {
		if e.Client == personLabel {
			recorded = append(recorded, e.Detail["granted"]+e.Detail["set"]+e.Detail["deleted"]+e.Detail["value"])
		}
	}
	if got := strings.Join(recorded, ","); got != "connections to api.example.com,API_KEY,API_KEY,false,true" {
		t.Errorf("the owner's log recorded %q", got)
	}
}
