package desktop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/sandbox"
)

// The end-to-end test needs a display and the GUI's main thread, so
// scripts/test-gui.sh runs this package's test binary under Xvfb with
// TAPEDECK_GUI_E2E=1, and TestMain then runs the app itself.
func TestMain(m *testing.M) {
	if os.Getenv("TAPEDECK_GUI_E2E") == "" {
		os.Exit(m.Run())
	}
	if err := runEndToEnd(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: GUI end-to-end:", err)
		os.Exit(1)
	}
	fmt.Println("PASS: GUI end-to-end: a component's own access was asked in the dialog (with a desktop notification) and Allow once let one request through; an editor's grant request was asked and let through")
	os.Exit(0)
}

func TestEndToEndIsRunByScript(t *testing.T) {
	t.Skip("the GUI end-to-end test needs Xvfb and the main thread: scripts/test-gui.sh (make test-gui) runs it with TAPEDECK_GUI_E2E=1")
}

// The names the scenario's editor and component go by.
const (
	editorName   = "editor-e2e"
	webComponent = "webfetch" // js-fetch, loaded by the editor under this id
	webBody      = "the page the local server serves to webfetch"
)

// runEndToEnd plays an editor (a go-sdk client, through the MCP server)
// against the app, in two scenarios: a component's own network access
// during a tool call (componentAccess), then an agent's grant request
// (agentGrant). The Host runs in this process (the app's own socket server
// is the lead's wiring); everything else is real: the Fyne app on Xvfb, the
// components, a local HTTP server, xdotool's clicks and keys, and the
// desktop notifications on the session bus.
func runEndToEnd() error {
	components := os.Getenv("TAPEDECK_TEST_COMPONENTS")
	out := os.Getenv("TAPEDECK_TEST_OUTPUT")
	if components == "" || out == "" {
		return fmt.Errorf("set TAPEDECK_TEST_COMPONENTS (make testdata) and TAPEDECK_TEST_OUTPUT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "tapedeck-gui-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	host, err := sandbox.New(ctx, sandbox.Options{Dir: filepath.Join(tmp, "components"), CacheDir: os.Getenv("TAPEDECK_TEST_CACHE_DIR")})
	if err != nil {
		return err
	}
	defer host.Close(context.Background())
	// The component ids come from the file names.
	calcSrc, fetchSrc := filepath.Join(tmp, "calc.wasm"), filepath.Join(tmp, webComponent+".wasm")
	for src, name := range map[string]string{calcSrc: "c-tool.wasm", fetchSrc: "js-fetch.wasm"} {
		data, err := os.ReadFile(filepath.Join(components, name))
		if err != nil {
			return fmt.Errorf("the test component (make testdata): %w", err)
		}
		if err := os.WriteFile(src, data, 0o600); err != nil {
			return err
		}
	}
	person := sandbox.Client{Name: "e2e", Transport: "cli"}
	if _, err := host.Load(ctx, calcSrc, sandbox.LoadOptions{Client: person}); err != nil {
		return fmt.Errorf("load calc: %w", err)
	}

	srv := mcpbridge.New(host, mcpbridge.Options{Version: "e2e"})
	defer srv.Close()
	clientEnd, serverEnd := mcp.NewInMemoryTransports()
	peer := sandbox.Client{Name: editorName, Transport: "socket", PID: os.Getpid(), Process: filepath.Base(os.Args[0])}
	if _, err := srv.Connect(ctx, serverEnd, peer); err != nil {
		return fmt.Errorf("connect the editor's session: %w", err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: editorName, Version: "1.0"}, nil).Connect(ctx, clientEnd, nil)
	if err != nil {
		return fmt.Errorf("editor client: %w", err)
	}
	defer cs.Close()

	notes, err := watchNotifications(ctx, filepath.Join(out, "e2e-notifications.log"))
	if err != nil {
		return err
	}
	defer notes.stop()
	web := newCountingServer(webBody)
	defer web.Close()

	result := make(chan error, 1)
	started := func(d *desktopApp) {
		go func() {
			s := &scenario{d: d, cs: cs, host: host, out: out, notes: notes, web: web, fetchSrc: fetchSrc}
			result <- s.run(ctx)
			fyne.Do(d.app.Quit)
		}()
	}
	if err := Run(ctx, Deps{Host: host, ActivityDir: "", started: started}); err != nil {
		return fmt.Errorf("the app: %w", err)
	}
	select {
	case err := <-result:
		return err
	default:
		return fmt.Errorf("the app quit before the scenario ended")
	}
}

// scenario plays the person and the editor.
type scenario struct {
	d        *desktopApp
	cs       *mcp.ClientSession
	host     *sandbox.Host
	out      string
	notes    *notifications
	web      *countingServer
	fetchSrc string
}

func (s *scenario) run(ctx context.Context) error {
	if err := s.componentAccess(ctx); err != nil {
		return fmt.Errorf("a component's own access: %w", err)
	}
	if err := s.agentGrant(ctx); err != nil {
		return fmt.Errorf("an agent's grant request: %w", err)
	}
	return nil
}

// componentAccess: with none of the app's windows in view (it runs in the
// tray), the editor loads webfetch and calls it; the component's request to
// the local server, by a name no rule grants, raises the question window, which
// names the component, the client and host:port, and a desktop notification
// says that a question waits. A click on Allow once lets that one request
// through; the next call asks again, and Escape denies it before anything
// reaches the server.
func (s *scenario) componentAccess(ctx context.Context) error {
	if res := <-s.call(ctx, "load-component", map[string]any{"path": s.fetchSrc}); res.err != nil || res.isError {
		return fmt.Errorf("load-component %s: %q (error %v)", s.fetchSrc, res.text, res.err)
	}
	// Addresses that are not public (the local server's 127.0.0.1) are
	// refused without a question unless the policy names them, so that a
	// name can never be a way into the local network. The person lists the
	// address, as they would for a service of their own; the name the
	// component uses, localhost, is in no rule: reaching it is asked.
	addr := strings.TrimPrefix(s.web.URL, "http://") // 127.0.0.1:port
	_, port, _ := strings.Cut(addr, ":")
	person := sandbox.Client{Name: "e2e", Transport: "cli"}
	if err := s.host.Grant(ctx, webComponent, sandbox.Permission{Kind: sandbox.PermissionNetwork, Host: "http://" + addr}, person); err != nil {
		return err
	}
	target := "localhost:" + port
	args := map[string]any{"url": "http://" + target + "/page"}
	call := s.call(ctx, "fetch-text", args)
	pos, size, err := s.awaitQuestion(ctx, sandbox.AllowOnce, call)
	if err != nil {
		return err
	}
	var shown []string
	fyne.DoAndWait(func() { shown = shownText(s.d.prompter.Window().Content()) })
	text := strings.Join(shown, "\n")
	for _, want := range []string{webComponent + " wants to connect to localhost", "Connect to " + target + " (http)",
		"Component: " + webComponent, "Client: " + editorName} {
		if !strings.Contains(text, want) {
			return fmt.Errorf("the question window does not say %q; it shows:\n%s", want, text)
		}
	}
	// The app's windows were all out of view when the question came: the
	// person hears of it through a desktop notification naming the component.
	nctx, cancel := context.WithTimeout(ctx, time.Minute) // a bound for a failing run, not a timing
	defer cancel()
	if err := s.notes.await(nctx, webComponent); err != nil {
		return err
	}
	res, err := s.clickAnswer(ctx, call, pos, size, "component-question.png")
	if err != nil {
		return err
	}
	if res.isError || !strings.Contains(res.text, webBody) || strings.Contains(res.text, "refused") {
		return fmt.Errorf("after Allow once, fetch-text returned (error %v) %q; want the page %q", res.isError, res.text, webBody)
	}
	if n := s.web.requests(); n != 1 {
		return fmt.Errorf("the local server saw %d requests after one allowed fetch; want 1", n)
	}

	// Allow once is not always: the next call asks again.
	call = s.call(ctx, "fetch-text", args)
	if _, _, err := s.awaitQuestion(ctx, sandbox.Deny, call); err != nil {
		return fmt.Errorf("the second call (allow once must not stick): %w", err)
	}
	if err := screenshot(s.out, "component-question-again.png"); err != nil {
		return err
	}
	win, err := findWindow(ctx, "^Tapedeck asks$")
	if err != nil {
		return err
	}
	// Focus the window, then type to whichever window has the focus: with
	// --window, xdotool sends each key event through XTEST only while that
	// window has the focus, so the release, coming after Escape has hidden
	// the window, would be a synthetic event the X server ignores, leaving
	// Escape held down and auto-repeating into the next question.
	if err := run("xdotool", "windowfocus", "--sync", win, "key", "Escape"); err != nil {
		return err
	}
	if res, err = answered(ctx, call, "Escape"); err != nil {
		return err
	}
	// A fetch that fails is the tool's own err result, not a tool error;
	// the Host adds what it refused and why.
	if strings.Contains(res.text, webBody) || !strings.Contains(res.text, "the person answered deny") {
		return fmt.Errorf("after Escape, fetch-text returned %q; want the denial (the person answered deny) and no page", res.text)
	}
	if n := s.web.requests(); n != 1 {
		return fmt.Errorf("the local server saw %d requests after a denied fetch; want still 1", n)
	}
	return nil
}

// agentGrant: with the Components window in view, an editor asks to grant
// calc a network permission; the question window asks, a click on Allow
// once (labelled Grant) lets the grant through, and no notification is sent
// since a window of the app is in view.
func (s *scenario) agentGrant(ctx context.Context) error {
	fyne.DoAndWait(s.d.showComponents)
	call := s.call(ctx, "grant-network-permission",
		map[string]any{"component_id": "calc", "details": map[string]any{"host": "api.example.com"}})
	pos, size, err := s.awaitQuestion(ctx, sandbox.AllowOnce, call)
	if err != nil {
		return err
	}
	res, err := s.clickAnswer(ctx, call, pos, size, "question-dialog.png")
	if err != nil {
		return err
	}
	if res.isError {
		return fmt.Errorf("grant-network-permission failed: %s", res.text)
	}
	pi, err := s.host.Policy("calc")
	if err != nil {
		return err
	}
	if !strings.Contains(pi.YAML, "api.example.com") {
		return fmt.Errorf("the policy does not grant api.example.com after Allow once:\n%s", pi.YAML)
	}
	// The notification would have been sent as the question showed, well
	// before the answer above; one that came late would escape this check,
	// never fail it wrongly.
	if got := s.notes.mentioning("calc"); len(got) > 0 {
		return fmt.Errorf("a notification was sent while the Components window was in view: %q", got)
	}
	time.Sleep(500 * time.Millisecond) // let the window paint for the screenshot; not a pass/fail timing
	return screenshot(s.out, "components-window.png")
}

// callResult is a tool call's outcome as the editor sees it.
type callResult struct {
	text    string
	isError bool
	err     error // the call itself failed (not a tool error)
}

// call calls a tool in the background; the channel gets its result.
func (s *scenario) call(ctx context.Context, tool string, args map[string]any) <-chan callResult {
	done := make(chan callResult, 1)
	go func() {
		res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			done <- callResult{err: fmt.Errorf("%s: %w", tool, err)}
			return
		}
		var text strings.Builder
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				text.WriteString(t.Text)
			}
		}
		done <- callResult{text: text.String(), isError: res.IsError}
	}()
	return done
}

// awaitQuestion waits for the question window to show and its buttons to
// arm (the key-in-flight guard keeps them inert for a moment), and returns
// where the button giving answer a is, in the window's coordinates.
func (s *scenario) awaitQuestion(ctx context.Context, a sandbox.Answer, call <-chan callResult) (fyne.Position, fyne.Size, error) {
	for {
		var pos fyne.Position
		var size fyne.Size
		var ok bool
		fyne.DoAndWait(func() { pos, size, ok = s.d.prompter.ButtonBounds(a) })
		if ok {
			return pos, size, nil
		}
		select {
		case res := <-call:
			return pos, size, fmt.Errorf("the call ended before a question showed: %q (error %v)", res.text, res.err)
		case <-ctx.Done():
			return pos, size, fmt.Errorf("the question never showed: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clickAnswer saves a screenshot of the question, clicks with the real
// mouse the middle of the button at pos and size in the question window,
// and waits for the call that asked.
func (s *scenario) clickAnswer(ctx context.Context, call <-chan callResult, pos fyne.Position, size fyne.Size, shot string) (callResult, error) {
	if err := screenshot(s.out, shot); err != nil {
		return callResult{}, err
	}
	id, err := findWindow(ctx, "^Tapedeck asks$")
	if err != nil {
		return callResult{}, err
	}
	x, y := int(pos.X+size.Width/2), int(pos.Y+size.Height/2)
	if err := run("xdotool", "mousemove", "--window", id, fmt.Sprint(x), fmt.Sprint(y), "click", "1"); err != nil {
		return callResult{}, err
	}
	return answered(ctx, call, "the click")
}

// answered waits for a call the person answered with how.
func answered(ctx context.Context, call <-chan callResult, how string) (callResult, error) {
	select {
	case res := <-call:
		if res.err != nil {
			return res, fmt.Errorf("after %s: %w", how, res.err)
		}
		return res, nil
	case <-ctx.Done():
		return callResult{}, fmt.Errorf("%s did not answer the question: %w", how, ctx.Err())
	}
}

// shownText lists the text of the labels and buttons in view under o, read
// from the widget tree of the kinds the question window is made of.
func shownText(o fyne.CanvasObject) []string {
	if o == nil || !o.Visible() {
		return nil
	}
	var text []string
	switch o := o.(type) {
	case *widget.Label:
		text = append(text, o.Text)
	case *widget.Button:
		text = append(text, o.Text)
	case *fyne.Container:
		for _, c := range o.Objects {
			text = append(text, shownText(c)...)
		}
	case *container.Scroll:
		text = shownText(o.Content)
	case *widget.Form:
		for _, it := range o.Items {
			if w := shownText(it.Widget); len(w) > 0 {
				text = append(text, it.Text+": "+strings.Join(w, " "))
			}
		}
	}
	return text
}

// countingServer is an HTTP server on 127.0.0.1 that serves one body and
// counts the requests that reach it.
type countingServer struct {
	*httptest.Server
	n atomic.Int32
}

func newCountingServer(body string) *countingServer {
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.n.Add(1)
		fmt.Fprint(w, body)
	}))
	return s
}

func (s *countingServer) requests() int { return int(s.n.Load()) }

// notifications watches the session bus, through dbus-monitor, for the
// Notify calls desktop notifications are made of
// (org.freedesktop.Notifications), keeping each call's string arguments
// (app name, icon, summary, body). The monitor's output is kept in a log.
type notifications struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when dbus-monitor's output ends

	mu    sync.Mutex
	calls [][]string
	more  chan struct{} // closed, and replaced, when calls change
}

func watchNotifications(ctx context.Context, logPath string) (*notifications, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "dbus-monitor", "--session",
		"type='method_call',interface='org.freedesktop.Notifications',member='Notify'")
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		log.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("watching the session bus (is dbus-monitor installed?): %w", err)
	}
	n := &notifications{cmd: cmd, done: make(chan struct{}), more: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(n.done)
		defer log.Close()
		n.read(io.TeeReader(stdout, log), ready)
	}()
	select {
	case <-ready:
		return n, nil
	case <-n.done:
		_ = cmd.Wait()
		return nil, fmt.Errorf("dbus-monitor stopped before it watched the bus (see %s)", logPath)
	case <-ctx.Done():
		n.stop()
		return nil, fmt.Errorf("dbus-monitor did not start watching the bus: %w", ctx.Err())
	}
}

// read parses dbus-monitor's output: a message starts at column 0, its
// arguments are indented. The monitor's own name is lost once the bus has
// made it a monitor, which is when it is ready: no later call is missed.
func (n *notifications) read(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	inNotify, isReady := false, false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, " ") {
			inNotify = strings.HasPrefix(line, "method call ") && strings.Contains(line, "member=Notify")
			if inNotify {
				n.change(func() { n.calls = append(n.calls, nil) })
			}
			if !isReady && strings.Contains(line, "member=NameLost") {
				isReady = true
				close(ready)
			}
			continue
		}
		arg := strings.TrimSpace(line)
		if inNotify && strings.HasPrefix(arg, `string "`) {
			arg = strings.TrimSuffix(strings.TrimPrefix(arg, `string "`), `"`)
			n.change(func() { n.calls[len(n.calls)-1] = append(n.calls[len(n.calls)-1], arg) })
		}
	}
}

func (n *notifications) change(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f()
	close(n.more)
	n.more = make(chan struct{})
}

// mentioning returns the Notify calls so far with an argument containing s.
func (n *notifications) mentioning(s string) [][]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var found [][]string
	for _, c := range n.calls {
		if slices.ContainsFunc(c, func(arg string) bool { return strings.Contains(arg, s) }) {
			found = append(found, c)
		}
	}
	return found
}

// await waits for a Notify call with an argument containing s.
func (n *notifications) await(ctx context.Context, s string) error {
	for {
		n.mu.Lock()
		more := n.more
		n.mu.Unlock()
		if len(n.mentioning(s)) > 0 {
			return nil
		}
		select {
		case <-more:
		case <-n.done:
			return fmt.Errorf("dbus-monitor stopped before a notification mentioned %q", s)
		case <-ctx.Done():
			n.mu.Lock()
			defer n.mu.Unlock()
			return fmt.Errorf("no desktop notification mentioned %q (Notify calls seen: %q): %w", s, n.calls, ctx.Err())
		}
	}
}

func (n *notifications) stop() {
	_ = n.cmd.Process.Kill()
	<-n.done
	_ = n.cmd.Wait()
}

func screenshot(out, name string) error {
	return run("import", "-window", "root", filepath.Join(out, name))
}

// findWindow polls for a visible window by title: xdotool's own --sync
// fails with BadWindow when other windows come and go meanwhile.
func findWindow(ctx context.Context, title string) (string, error) {
	for {
		if out, err := output("xdotool", "search", "--onlyvisible", "--name", title); err == nil {
			if ids := strings.Fields(out); len(ids) > 0 {
				return ids[0], nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no window titled %q: %w", title, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func run(name string, args ...string) error {
	_, err := output(name, args...)
	return err
}

func output(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
