package cli

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/paths"
)

// startServe runs `tapedeck serve` on the session's data dir through Run,
// as a person would have it running in another terminal, until the test
// ends; it returns once serve listens.
func (s *session) startServe() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var serveErr bytes.Buffer
	wg.Add(1)
	go func() {
		defer wg.Done()
		env := &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &serveErr, DataDir: s.data,
			Getenv: func(string) string { return "" }}
		Run(ctx, env, []string{"serve"})
	}()
	s.t.Cleanup(func() { cancel(); wg.Wait() })

	dirs, err := paths.Resolve(paths.Options{DataDir: s.data, Getenv: func(string) string { return "" }})
	if err != nil {
		s.t.Fatal(err)
	}
	socket := paths.SocketPath(dirs)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("serve did not listen on %s: %s", socket, serveErr.String())
		}
	}
}

// TestVerbsThroughServe: the verbs against a real `tapedeck serve`.
func TestVerbsThroughServe(t *testing.T) {
	s := newSession(t)
	s.startServe()
	s.loadCalc()
	if out := s.must("tool", "invoke", "add", "--args", `{"a":2,"b":3}`); strings.TrimSpace(out) != "5" {
		t.Errorf("add through serve = %q", out)
	}
	if out := s.must("component", "list"); !strings.Contains(out, "calc") {
		t.Errorf("component list through serve:\n%s", out)
	}
	s.must("component", "unload", "calc")
}
