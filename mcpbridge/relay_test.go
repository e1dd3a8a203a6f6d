package mcpbridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/localsock"
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

// startsHeadless returns a relay.Options.StartOwner that starts a headless
// owner of dir as `tapedeck mcp` does: this test binary re-executed in the
// owner role, detached. Each call counts in starts, when not nil.
func startsHeadless(t *testing.T, dir string, starts *atomic.Int32) func(context.Context) error {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(roleEnv, roleOwner)
	t.Setenv(dirEnv, dir)
	t.Cleanup(func() { stopOwner(t, dir) })
	return func(context.Context) error {
		if starts != nil {
			starts.Add(1)
		}
		return relay.StartDetached(exe, nil, dir, filepath.Join(dir, "owner.log"))
	}
}

func TestRelayStartsExactlyOneOwner(t *testing.T) {
	dir := shortTempDir(t)
	opts := relay.Options{Socket: testSocket(dir), StartOwner: startsHeadless(t, dir, nil)}
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
			socket := testSocket(dir)
			first := ownDir(t, dir, false)
			cs := relaySession(t, relay.Options{Socket: socket}, p.version)
			if got := callText(t, cs, "echo", map[string]any{"message": "first"}); got != "first" {
				t.Fatalf("echo via the first owner = %q", got)
			}
			if err := first.stop(); err != nil {
				t.Errorf("the first owner: %v", err)
			}
			second := ownDir(t, dir, false)
			if got := callText(t, cs, "echo", map[string]any{"message": "second"}); got != "second" {
				t.Errorf("echo via the second owner = %q", got)
			}
			cs.Close() // the editor leaves first, so the relay ends cleanly
			if err := second.stop(); err != nil {
				t.Errorf("the second owner: %v", err)
			}
		})
	}
}

func TestRelayNoOwner(t *testing.T) {
	dir := shortTempDir(t)
	err := relay.Run(t.Context(), strings.NewReader(""), io.Discard, relay.Options{Socket: testSocket(dir), Wait: 1})
	if err == nil || !strings.Contains(err.Error(), "no Tapedeck owner answers") {
		t.Errorf("relay with no owner and no way to start one: %v", err)
	}
}

func TestHandover(t *testing.T) {
	dir := shortTempDir(t)
	socket := testSocket(dir)
	old := ownDir(t, dir, true) // the headless owner

	cs := relaySession(t, relay.Options{Socket: socket}, "2025-11-25")
	if got := callText(t, cs, "echo", map[string]any{"message": "before"}); got != "before" {
		t.Fatalf("echo before the hand-over = %q", got)
	}

	// The tray app takes over.
	lockB, err := TakeOver(t.Context(), dir, socket, "test app")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.wait(); err != nil {
		t.Errorf("the old owner: %v", err)
	}
	b, err := serveOwned(lockB, socket, false)
	if err != nil {
		t.Fatal(err)
	}

	if got := callText(t, cs, "echo", map[string]any{"message": "after"}); got != "after" {
		t.Errorf("echo after the hand-over = %q", got)
	}
	if c := b.backend.lastCall(); c.Tool != "echo" || c.Client.Name != "relay-test" {
		t.Errorf("the new owner saw %+v, want the editor's replayed session", c)
	}
	cs.Close()
	if err := b.stop(); err != nil {
		t.Errorf("the new owner: %v", err)
	}
}

func TestHandoverRefusedOverHTTP(t *testing.T) {
	called := make(chan struct{}, 1)
	srv := newServer(t, newFakeBackend(), Options{OnHandover: func(int) { called <- struct{}{} }})
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

// testOwner is an owner of a data dir served from this process, with a
// fake backend that offers the echo tool.
type testOwner struct {
	backend *fakeBackend
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	err     error
}

// serveOwned serves socket as the owner holding lock until stop, then
// releases lock. With handover it hands over when asked, as `tapedeck
// serve` does: it records the taker as its successor, stops accepting,
// drains, and ends.
func serveOwned(lock *ownerlock.Lock, socket string, handover bool) (*testOwner, error) {
	ln, err := ListenSocket(socket, lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	fb := newFakeBackend()
	fb.addComponent(echoComponent("echo"))
	ctx, cancel := context.WithCancel(context.Background())
	o := &testOwner{backend: fb, cancel: cancel, done: make(chan error, 1)}
	var opts Options
	var srv *Server
	var handoverErr error // written before cancel, read after ServeSocket
	if handover {
		opts.OnHandover = func(taker int) {
			handoverErr = lock.HandingOver(taker)
			ln.Close()
			srv.Drain(ctx)
			cancel()
		}
	}
	srv = New(fb, opts)
	go func() {
		err := srv.ServeSocket(ctx, ln)
		srv.Close()
		o.done <- errors.Join(err, handoverErr, lock.Close())
	}()
	return o, nil
}

// wait returns once the owner has stopped serving and released its lock.
func (o *testOwner) wait() error {
	o.once.Do(func() { o.err = <-o.done })
	return o.err
}

// stop ends the owner.
func (o *testOwner) stop() error {
	o.cancel()
	return o.wait()
}

// ownDir takes dir's lock and serves its socket from this process until
// the test ends (or stop); see serveOwned.
func ownDir(t *testing.T, dir string, handover bool) *testOwner {
	t.Helper()
	lock, err := ownerlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	o, err := serveOwned(lock, testSocket(dir), handover)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.stop() })
	return o
}

// runTaker is the tray app taking over dir, step by step as its stdin
// says: "take" calls TakeOver (answering "took"), "serve" serves the
// socket (answering "serving"). It ends when stdin closes.
func runTaker(dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	socket := testSocket(dir)
	var lock *ownerlock.Lock
	var owner *testOwner
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var err error
		switch in.Text() {
		case "take":
			if lock, err = TakeOver(ctx, dir, socket, "test taker"); err == nil {
				fmt.Println("took")
			}
		case "serve":
			if owner, err = serveOwned(lock, socket, false); err == nil {
				fmt.Println("serving")
			}
		}
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
	}
	if owner != nil {
		owner.stop()
	}
	return 0
}

// takerProcess is runTaker in a process of its own.
type takerProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startTaker starts a taker for dir; it ends when the test does. Start it
// before the relay session, so that it outlives the session.
func startTaker(t *testing.T, dir string) *takerProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+roleTaker, dirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &takerProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
}

// do sends the taker one step and checks its answer.
func (p *takerProcess) do(t *testing.T, step, want string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, step+"\n"); err != nil {
		t.Fatal(err)
	}
	if !p.out.Scan() {
		t.Fatalf("the taker ended at %q: %v", step, p.out.Err())
	}
	if got := p.out.Text(); got != want {
		t.Fatalf("the taker answered %q to %q, want %q", got, step, want)
	}
}

// dialWatch is a relay.Options.Dial that tells each failed dial.
type dialWatch struct{ failed chan struct{} }

func newDialWatch() *dialWatch { return &dialWatch{failed: make(chan struct{}, 1)} }

func (d *dialWatch) dial(ctx context.Context, socket string) (net.Conn, error) {
	conn, err := localsock.Dial(ctx, socket)
	if err != nil {
		select {
		case d.failed <- struct{}{}:
		default:
		}
	}
	return conn, err
}

// awaitRetry returns once the relay has failed to dial twice after the
// call without starting an owner (a value on starts): the relay decides
// whether to start one right after a failed dial, so the second failure
// proves it has decided after the first.
func (d *dialWatch) awaitRetry(t *testing.T, starts <-chan struct{}) {
	t.Helper()
	select {
	case <-d.failed: // one from before the call
	default:
	}
	for range 2 {
		select {
		case <-d.failed:
		case <-starts:
			t.Fatal("the relay started an owner while the taker ran")
		case <-t.Context().Done():
			t.Fatal("the relay did not try to reconnect")
		}
	}
	noStart(t, starts, "while the taker ran")
}

// noStart fails the test if starts holds a call of StartOwner.
func noStart(t *testing.T, starts <-chan struct{}, when string) {
	t.Helper()
	select {
	case <-starts:
		t.Fatalf("the relay started an owner %s", when)
	default:
	}
}

// takeOverScene is an editor's relay to a headless owner that the tray
// app (a taker process) has just taken over from: the old owner is gone,
// the taker holds the lock but does not serve yet, and the relay has tried
// to reconnect without starting an owner.
type takeOverScene struct {
	taker *takerProcess
	// starts gets a value each time the relay calls StartOwner.
	starts chan struct{}
	cs     *mcp.ClientSession
}

// beginTakeOver sets up a takeOverScene in dir. The relay's StartOwner
// counts in starts, then calls startOwner when not nil. Options.Wait is
// longer than any test: only a taker's end may start an owner.
func beginTakeOver(t *testing.T, dir string, startOwner func() error) *takeOverScene {
	t.Helper()
	sc := &takeOverScene{taker: startTaker(t, dir), starts: make(chan struct{}, 8)}
	old := ownDir(t, dir, true)
	dials := newDialWatch()
	sc.cs = relaySession(t, relay.Options{
		Socket: testSocket(dir), DataDir: dir, Dial: dials.dial, Wait: time.Hour,
		StartOwner: func(context.Context) error {
			sc.starts <- struct{}{}
			if startOwner == nil {
				return nil
			}
			return startOwner()
		},
	}, "2025-11-25")
	if got := callText(t, sc.cs, "echo", map[string]any{"message": "before"}); got != "before" {
		t.Fatalf("echo before the take-over = %q", got)
	}
	sc.taker.do(t, "take", "took")
	if err := old.wait(); err != nil {
		t.Errorf("the old owner: %v", err)
	}
	dials.awaitRetry(t, sc.starts) // nothing answers while the app starts
	return sc
}

// The relay waits for the tray app taking over instead of starting a
// headless owner that could take the lock first, and goes on with it.
func TestRelayWaitsForTakeOver(t *testing.T) {
	dir := shortTempDir(t)
	sc := beginTakeOver(t, dir, nil)
	sc.taker.do(t, "serve", "serving")
	if got := callText(t, sc.cs, "echo", map[string]any{"message": "after"}); got != "after" {
		t.Errorf("echo after the take-over = %q", got)
	}
	noStart(t, sc.starts, "during the take-over")
	pid := sc.taker.cmd.Process.Pid
	if o, ok, err := ownerlock.ReadOwner(dir); err != nil || !ok || o.PID != pid || o.Next.PID != 0 {
		t.Errorf("owner record after the take-over = %+v, %v, %v; want the taker (pid %d) and no successor", o, ok, err, pid)
	}
	sc.cs.Close()
}

// A taker that dies before it serves does not leave the relay waiting:
// it starts an owner then and goes on with it.
func TestRelayStartsOwnerWhenTakerDies(t *testing.T) {
	dir := shortTempDir(t)
	started := make(chan *testOwner, 1)
	t.Cleanup(func() { // after the relay's own clean-up
		select {
		case o := <-started:
			o.stop()
		default:
		}
	})
	sc := beginTakeOver(t, dir, func() error {
		lock, err := ownerlock.Acquire(dir)
		if err != nil {
			return err
		}
		o, err := serveOwned(lock, testSocket(dir), false)
		if err == nil {
			started <- o
		}
		return err
	})
	sc.taker.cmd.Process.Kill()
	sc.taker.cmd.Wait() // reaped: its pid is gone
	if got := callText(t, sc.cs, "echo", map[string]any{"message": "after"}); got != "after" {
		t.Errorf("echo after the taker died = %q", got)
	}
	if n := len(sc.starts); n != 1 {
		t.Errorf("the relay started %d owners after the taker died, want 1", n)
	}
	sc.cs.Close()
}

// A crashed owner announced no take-over: the relay starts a new one (with
// Options.Wait an hour, only at once).
func TestRelayStartsOwnerAfterCrash(t *testing.T) {
	dir := shortTempDir(t)
	var starts atomic.Int32
	cs := relaySession(t, relay.Options{
		Socket: testSocket(dir), DataDir: dir, Wait: time.Hour,
		StartOwner: startsHeadless(t, dir, &starts),
	}, "")
	if err := cs.Ping(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	first, ok, err := ownerlock.ReadOwner(dir)
	if err != nil || !ok {
		t.Fatalf("no owner recorded after the relay started one: %v", err)
	}
	p, err := os.FindProcess(first.PID)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for {
		o, ok, _ := ownerlock.ReadOwner(dir)
		if ok && o.PID != first.PID {
			break
		}
		select {
		case <-t.Context().Done():
			t.Fatal("no new owner after the crash")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := cs.Ping(t.Context(), nil); err != nil {
		t.Errorf("ping after the crash: %v", err)
	}
	if n := starts.Load(); n != 2 {
		t.Errorf("StartOwner called %d times, want 2 (at first, after the crash)", n)
	}
	cs.Close()
}
