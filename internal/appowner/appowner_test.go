//go:build unix

package appowner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

// options are Start's options for the state in dir, logging to the test.
func options(t *testing.T, dir string) Options {
	t.Helper()
	dirs, err := resolve(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Dirs: dirs, Version: "test", Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), SecretsFileOnly: true}
}

// slowDownload is an HTTP server on loopback whose downloads answer 404
// only once release is called: a load-component call through it stays in
// flight until then. arrived is closed when the first request is in;
// answered reports whether it was still waiting for its answer when
// released (not cut off by its owner giving up on it).
type slowDownload struct {
	*httptest.Server
	arrived, released chan struct{}
	answered          chan bool
}

func newSlowDownload(t *testing.T) *slowDownload {
	d := &slowDownload{arrived: make(chan struct{}), released: make(chan struct{}), answered: make(chan bool, 1)}
	first := make(chan struct{}, 1)
	first <- struct{}{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isFirst := false
		select {
		case <-first:
			isFirst = true
			close(d.arrived)
		default:
		}
		answered := false
		select {
		case <-d.released:
			answered = true
		case <-r.Context().Done():
		}
		if isFirst {
			d.answered <- answered
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(func() {
		d.release()
		d.Close()
	})
	return d
}

func (d *slowDownload) release() {
	select {
	case <-d.released:
	default:
		close(d.released)
	}
}

// finishes releases the download that call waits on and checks that the
// owner let the call finish: the download was still wanted, and the editor
// got the call's answer.
func (d *slowDownload) finishes(t *testing.T, call <-chan string) {
	t.Helper()
	d.release()
	if !<-d.answered {
		t.Error("the owner gave up on the call in flight instead of letting it finish")
	}
	// serve's hand-over waits until the answer is written, not only until
	// the tool handler returned: the call's own answer must arrive.
	if got := <-call; !strings.Contains(got, "404") {
		t.Errorf("the call in flight answered %q, want the download's 404", got)
	}
}

// callInFlight connects an editor to the socket and starts a
// load-component call that waits on d; the call's text (or error) arrives
// on the channel once it ends.
func callInFlight(t *testing.T, socket string, d *slowDownload) <-chan string {
	t.Helper()
	cs, err := connect(t.Context(), socket, "editor")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	done := make(chan string, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "load-component", Arguments: map[string]any{"path": d.URL + "/slow.wasm"}})
		if err != nil {
			done <- "error: " + err.Error()
			return
		}
		done <- text(res)
	}()
	select {
	case <-d.arrived:
	case s := <-done:
		t.Fatalf("the call ended before it reached the download: %s", s)
	}
	return done
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestStartTakesOverFromServe: the app starting while `tapedeck serve` owns
// the data dir asks it to hand over, waits while it finishes the call it
// has in flight (whose answer reaches the editor), then owns the data dir
// and serves MCP on its socket.
func TestStartTakesOverFromServe(t *testing.T) {
	dir := shortDir(t)
	opts := options(t, dir)
	socket := paths.SocketPath(opts.Dirs)
	serve, serveLog := startServe(t, dir)
	download := newSlowDownload(t)
	call := callInFlight(t, socket, download)

	type started struct {
		a   *App
		err error
	}
	start := make(chan started, 1)
	go func() {
		a, err := Start(t.Context(), opts)
		start <- started{a, err}
	}()
	logSays(t, serveLog, "handing ownership over")
	// The old owner drains: it holds the data dir until the call ends.
	select {
	case s := <-start:
		t.Fatalf("Start returned while the old owner still had a call in flight: %v", s.err)
	default:
	}
	if pid := ownerPID(t, dir); pid != serve.Process.Pid {
		t.Fatalf("the owner lock names pid %d while the old owner (pid %d) drains", pid, serve.Process.Pid)
	}

	download.finishes(t, call)
	s := <-start
	if s.err != nil {
		t.Fatalf("Start: %v", s.err)
	}
	defer s.a.Close()
	if err := serve.Wait(); err != nil {
		t.Errorf("`tapedeck serve` after handing over: %v", err)
	}
	if pid := ownerPID(t, dir); pid != os.Getpid() {
		t.Errorf("the owner lock names pid %d, want this process (%d)", pid, os.Getpid())
	}

	s.a.Host.SetPrompter(sandbox.PrompterFunc(func(context.Context, sandbox.AccessRequest) (sandbox.Answer, error) { return sandbox.Deny, nil }))
	cs, err := connect(t.Context(), socket, "editor-after")
	if err != nil {
		t.Fatalf("connecting to the app's socket: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "list-components", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("list-components from the app: %v %v", err, res)
	}
}

// TestStartAsksEachNewOwner: when the owner asked to hand over is replaced
// by another before the app gets the lock (an editor's relay starting a new
// headless owner), the new owner is asked too, and the app gets the lock
// from it.
func TestStartAsksEachNewOwner(t *testing.T) {
	dir := shortDir(t)
	t.Cleanup(func() { killMarked(t, dir) })
	first, _ := child(t, roleHolder, dir, successorEnv+"=1")
	if err := waitReady(first); err != nil {
		t.Fatalf("starting the first owner: %v", err)
	}
	a, err := Start(t.Context(), options(t, dir))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer a.Close()
	if err := first.Wait(); err != nil {
		t.Errorf("the first owner: %v", err)
	}
	asked := marked(t, dir, "asked")
	slices.Sort(asked)
	holders := marked(t, dir, "holder")
	slices.Sort(holders)
	if len(holders) != 2 || !slices.Equal(asked, holders) {
		t.Fatalf("owners %v, asked to hand over %v: want two owners, both asked", holders, asked)
	}
	if passed := marked(t, dir, "passed"); !slices.Equal(passed, []int{first.Process.Pid}) {
		t.Errorf("owners that passed the lock on: %v, want the first (%d)", passed, first.Process.Pid)
	}
	second := holders[0]
	if second == first.Process.Pid {
		second = holders[1]
	}
	if released := marked(t, dir, "released"); !slices.Equal(released, []int{second}) {
		t.Errorf("owners that released the lock: %v, want the second (%d)", released, second)
	}
	if pid := ownerPID(t, dir); pid != os.Getpid() {
		t.Errorf("the owner lock names pid %d, want this process (%d)", pid, os.Getpid())
	}
}

// TestStartGivesUp: a take-over that times out says what to do, one whose
// context is cancelled says so; either way nothing of it keeps running and
// the old owner keeps the data dir.
func TestStartGivesUp(t *testing.T) {
	for _, tt := range []struct {
		name string
		// start starts the take-over; giveUp, called once the old owner was
		// asked, makes it give up.
		start   func(ctx context.Context, opts Options) (start func() error, giveUp func())
		want    []string
		is      error
		namePID bool // the error names the running owner's pid
	}{
		{
			name: "timeout",
			start: func(ctx context.Context, opts Options) (func() error, func()) {
				// The old owner never finishes its call: the limit is reached
				// however fast this machine is.
				opts.TakeOverTimeout = 200 * time.Millisecond
				return func() error { _, err := Start(ctx, opts); return err }, func() {}
			},
			want:    []string{"did not hand", "over within 200ms", "it may still be finishing long calls; try again, or stop that process"},
			is:      context.DeadlineExceeded,
			namePID: true,
		},
		{
			name: "cancelled",
			start: func(ctx context.Context, opts Options) (func() error, func()) {
				ctx, cancel := context.WithCancel(ctx)
				return func() error { _, err := Start(ctx, opts); return err }, cancel
			},
			want: []string{"taking over the data dir from the running Tapedeck: waiting for the running Tapedeck to hand over: context canceled"},
			is:   context.Canceled,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortDir(t)
			opts := options(t, dir)
			serve, serveLog := startServe(t, dir)
			download := newSlowDownload(t)
			call := callInFlight(t, paths.SocketPath(opts.Dirs), download)

			start, giveUp := tt.start(t.Context(), opts)
			done := make(chan error, 1)
			go func() { done <- start() }()
			logSays(t, serveLog, "handing ownership over")
			giveUp()
			err := <-done
			if err == nil {
				t.Fatal("Start succeeded while the old owner was still draining")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("Start: %v, want it to match %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start: %q does not say %q", err, w)
				}
			}
			if tt.namePID && !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", serve.Process.Pid)) {
				t.Errorf("Start: %q does not name the running owner's pid %d", err, serve.Process.Pid)
			}
			if left := leftGoroutines(); len(left) > 0 {
				t.Errorf("%d goroutines of the take-over outlived Start:\n%s", len(left), strings.Join(left, "\n\n"))
			}
			if pid := ownerPID(t, dir); pid != serve.Process.Pid {
				t.Errorf("the owner lock names pid %d, want the old owner (%d)", pid, serve.Process.Pid)
			}
			// The old owner was asked and goes on handing over.
			download.finishes(t, call)
			if err := serve.Wait(); err != nil {
				t.Errorf("`tapedeck serve`: %v", err)
			}
		})
	}
}

// TestMCPServedOnceAsking: an editor that connects before the app's
// question window is the Host's Prompter waits; once it is, the editor is
// served and its grant request is asked through the Prompter, not refused
// as on a headless server. The control socket is served from the start.
// Cancelling Start's context ends the sessions; Close releases the rest.
func TestMCPServedOnceAsking(t *testing.T) {
	dir := shortDir(t)
	opts := options(t, dir)
	socket := paths.SocketPath(opts.Dirs)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			a.Close()
		}
	}()
	person := sandbox.Client{Name: "test", Transport: "cli"}
	loaded, err := a.Owner.Host.Load(t.Context(), testcomponents.Path(t, testcomponents.CTool), sandbox.LoadOptions{Client: person})
	if err != nil {
		t.Fatal(err)
	}
	id := loaded.Component.ID

	type outcome struct {
		cs   *mcp.ClientSession
		text string
		err  error
	}
	early := make(chan outcome, 1)
	go func() {
		cs, err := connect(t.Context(), socket, "early-editor")
		if err != nil {
			early <- outcome{err: err}
			return
		}
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "grant-network-permission",
			Arguments: map[string]any{"component_id": id, "details": map[string]any{"host": "api.example.com"}}})
		if err != nil {
			early <- outcome{cs: cs, err: err}
			return
		}
		early <- outcome{cs: cs, text: text(res)}
	}()

	// The control socket answers meanwhile.
	cc, err := control.Dial(t.Context(), control.SocketPath(socket))
	if err != nil {
		t.Fatalf("dialling the control socket: %v", err)
	}
	resp, err := cc.Do(t.Context(), control.Request{Op: control.OpSecretList, Component: id})
	cc.Close()
	if err != nil || resp.Error != "" {
		t.Fatalf("the control socket before the Prompter: %v %+v", err, resp)
	}
	// Served at once, the early editor would have been refused within this
	// wait (a call in this process takes milliseconds). The wait cannot
	// make a correct start-up fail, only a slow machine miss a wrong one.
	time.Sleep(200 * time.Millisecond)
	select {
	case o := <-early:
		t.Fatalf("the MCP socket served an editor before the Prompter was set: %q %v", o.text, o.err)
	default:
	}

	asked := make(chan sandbox.AccessRequest, 1)
	a.Host.SetPrompter(sandbox.PrompterFunc(func(_ context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
		asked <- req
		return sandbox.AllowOnce, nil
	}))
	o := <-early
	if o.err != nil {
		t.Fatalf("the early editor once the Prompter was set: %v", o.err)
	}
	if !strings.Contains(o.text, "permission granted successfully") {
		t.Errorf("the early editor's grant request answered %q, want it granted through the Prompter", o.text)
	}
	select {
	case req := <-asked:
		if req.Component != id || req.Client.Name != "early-editor" {
			t.Errorf("the Prompter was asked %+v, want component %s for client early-editor", req, id)
		}
	default:
		t.Error("the grant went through without asking the Prompter")
	}

	// Start's context ends the serving: the editor's session ends (a hang
	// here is the failure).
	cancel()
	o.cs.Wait()
	closed = true
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if left := leftGoroutines(); len(left) > 0 {
		t.Errorf("%d goroutines outlived Close:\n%s", len(left), strings.Join(left, "\n\n"))
	}
	l, err := ownerlock.Acquire(dir)
	if err != nil {
		t.Fatalf("the data dir after Close: %v", err)
	}
	l.Close()
}
