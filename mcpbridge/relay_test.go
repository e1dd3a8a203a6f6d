package mcpbridge

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/mcpbridge/relay"
	"tapedeck.dev/tapedeck/sandbox"
)

// relaySession runs relay.Run in the background, as `tapedeck mcp` does
// for an editor, and connects a go-sdk client to its stdio.
func relaySession(t *testing.T, opts relay.Options, version string) *mcp.ClientSession {
	t.Helper()
	inR, inW := io.Pipe()   // editor → relay
	outR, outW := io.Pipe() // relay → editor
	done := make(chan error, 1)
	go func() {
		done <- relay.Run(context.Background(), inR, outW, opts)
		outW.Close()
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "relay-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: outR, Writer: inW}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("relay.Run: %v", err)
		}
	})
	return cs
}

func TestRelayStartsExactlyOneOwner(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := shortTempDir(t)
	// The owners are this test binary re-executed in the owner role.
	t.Setenv(roleEnv, roleOwner)
	t.Setenv(dirEnv, dir)
	t.Cleanup(func() { stopOwner(t, dir) })
	opts := relay.Options{
		Socket: filepath.Join(dir, "mcp.sock"),
		StartOwner: func(context.Context) error {
			return relay.StartDetached(exe, nil, dir, filepath.Join(dir, "owner.log"))
		},
	}
	// Two editors start at the same moment with no owner running.
	sessions := make([]*mcp.ClientSession, 2)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sessions[i] = relaySession(t, opts, "")
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := ownersIn(t, dir); len(got) != 1 {
		log, _ := os.ReadFile(filepath.Join(dir, "owner.log"))
		t.Fatalf("%d processes became the owner (%v), want 1; owner.log:\n%s", len(got), got, log)
	}
	// Both share the one owner's state.
	if res := callText(t, sessions[0], "load-component", map[string]any{"path": "file:///tmp/echo.wasm"}); !strings.Contains(res, "loaded successfully") {
		t.Fatalf("load through relay 0: %s", res)
	}
	if got := callText(t, sessions[1], "echo", map[string]any{"message": "shared"}); got != "shared" {
		t.Errorf("relay 1 does not see what relay 0 loaded: %q", got)
	}
}

func TestRelayFollowsNewOwner(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			dir := shortTempDir(t)
			socket := filepath.Join(dir, "mcp.sock")
			// startOwner serves dir in this process until stop is called,
			// as a headless owner handing over would.
			startOwner := func() (stop func()) {
				lock, err := ownerlock.Acquire(dir)
				if err != nil {
					t.Fatal(err)
				}
				ln, err := ListenSocket(socket, lock)
				if err != nil {
					t.Fatal(err)
				}
				fb := newFakeBackend()
				fb.addComponent(echoComponent("echo"))
				srv := New(fb, Options{})
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- srv.ServeSocket(ctx, ln) }()
				return func() {
					cancel()
					<-done
					srv.Close()
					lock.Close()
				}
			}
			stopFirst := startOwner()
			cs := relaySession(t, relay.Options{Socket: socket}, p.version)
			if got := callText(t, cs, "echo", map[string]any{"message": "first"}); got != "first" {
				t.Fatalf("echo via the first owner = %q", got)
			}
			stopFirst()
			stopSecond := startOwner()
			if got := callText(t, cs, "echo", map[string]any{"message": "second"}); got != "second" {
				t.Errorf("echo via the second owner = %q", got)
			}
			cs.Close() // the editor leaves first, so the relay ends cleanly
			stopSecond()
		})
	}
}

func TestRelayNoOwner(t *testing.T) {
	dir := shortTempDir(t)
	err := relay.Run(t.Context(), strings.NewReader(""), io.Discard, relay.Options{Socket: filepath.Join(dir, "mcp.sock"), Wait: 1})
	if err == nil || !strings.Contains(err.Error(), "no Tapedeck owner answers") {
		t.Errorf("relay with no owner and no way to start one: %v", err)
	}
}

func TestHandover(t *testing.T) {
	dir := shortTempDir(t)
	socket := filepath.Join(dir, "mcp.sock")

	// The headless owner, handing over as `tapedeck serve` does.
	lockA, err := ownerlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	lnA, err := ListenSocket(socket, lockA)
	if err != nil {
		t.Fatal(err)
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	fbA := newFakeBackend()
	fbA.addComponent(echoComponent("echo"))
	var srvA *Server
	srvA = New(fbA, Options{OnHandover: func() {
		lnA.Close()
		srvA.Drain(ctxA)
		cancelA()
	}})
	defer srvA.Close()
	doneA := make(chan error, 1)
	go func() {
		err := srvA.ServeSocket(ctxA, lnA)
		lockA.Close()
		doneA <- err
	}()

	cs := relaySession(t, relay.Options{Socket: socket}, "2025-11-25")
	if got := callText(t, cs, "echo", map[string]any{"message": "before"}); got != "before" {
		t.Fatalf("echo before the hand-over = %q", got)
	}

	// The tray app takes over.
	lockB, err := TakeOver(t.Context(), dir, socket, "test app")
	if err != nil {
		t.Fatal(err)
	}
	defer lockB.Close()
	if err := <-doneA; err != nil {
		t.Errorf("the old owner's ServeSocket: %v", err)
	}
	lnB, err := ListenSocket(socket, lockB)
	if err != nil {
		t.Fatal(err)
	}
	fbB := newFakeBackend()
	fbB.addComponent(echoComponent("echo"))
	srvB := New(fbB, Options{})
	defer srvB.Close()
	ctxB, cancelB := context.WithCancel(context.Background())
	doneB := make(chan error, 1)
	go func() { doneB <- srvB.ServeSocket(ctxB, lnB) }()

	if got := callText(t, cs, "echo", map[string]any{"message": "after"}); got != "after" {
		t.Errorf("echo after the hand-over = %q", got)
	}
	if c := fbB.lastCall(); c.Tool != "echo" || c.Client.Name != "relay-test" {
		t.Errorf("the new owner saw %+v, want the editor's replayed session", c)
	}
	cs.Close()
	cancelB()
	if err := <-doneB; err != nil {
		t.Errorf("the new owner's ServeSocket: %v", err)
	}
}

func TestHandoverRefusedOverHTTP(t *testing.T) {
	called := make(chan struct{}, 1)
	srv := newServer(t, newFakeBackend(), Options{OnHandover: func() { called <- struct{}{} }})
	ct, st := mcp.NewInMemoryTransports()
	if _, err := srv.Connect(t.Context(), st, sandbox.Client{Transport: "http"}); err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "x", Version: "0"}, nil)
	if err := mcp.AddSendingCustomMethod[*HandoverParams, *HandoverResult](client, HandoverMethod); err != nil {
		t.Fatal(err)
	}
	cs, err := client.Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := mcp.CallCustomMethod[*HandoverParams, *HandoverResult](t.Context(), cs, HandoverMethod, &HandoverParams{}); err == nil {
		t.Error("a hand-over was accepted from an HTTP session")
	}
	select {
	case <-called:
		t.Error("OnHandover ran for an HTTP session")
	default:
	}
}
