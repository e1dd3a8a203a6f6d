package desktop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
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
	fmt.Println("PASS: GUI end-to-end: an editor's grant request was asked in the dialog and Allow once let it through")
	os.Exit(0)
}

func TestEndToEndIsRunByScript(t *testing.T) {
	t.Skip("the GUI end-to-end test needs Xvfb and the main thread: scripts/test-gui.sh (make test-gui) runs it with TAPEDECK_GUI_E2E=1")
}

// runEndToEnd: an editor-side go-sdk client asks, through the MCP server,
// to grant calc a network permission; the app's question window asks;
// xdotool clicks Allow once; the grant goes through. The Host runs in this
// process (the app's own socket server is the lead's wiring).
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
	person := sandbox.Client{Name: "e2e", Transport: "cli"}
	src := filepath.Join(tmp, "calc.wasm")
	data, err := os.ReadFile(filepath.Join(components, "c-tool.wasm"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(src, data, 0o600); err != nil {
		return err
	}
	if _, err := host.Load(ctx, src, sandbox.LoadOptions{Client: person}); err != nil {
		return fmt.Errorf("load calc: %w", err)
	}

	srv := mcpbridge.New(host, mcpbridge.Options{Version: "e2e"})
	defer srv.Close()
	clientEnd, serverEnd := mcp.NewInMemoryTransports()
	peer := sandbox.Client{Name: "editor-e2e", Transport: "socket", PID: os.Getpid(), Process: filepath.Base(os.Args[0])}
	if _, err := srv.Connect(ctx, serverEnd, peer); err != nil {
		return fmt.Errorf("connect the editor's session: %w", err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "editor-e2e", Version: "1.0"}, nil).Connect(ctx, clientEnd, nil)
	if err != nil {
		return fmt.Errorf("editor client: %w", err)
	}
	defer cs.Close()

	result := make(chan error, 1)
	started := func(d *desktopApp) {
		go func() {
			result <- drive(ctx, d, cs, host, out)
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

// drive plays the person and the editor.
func drive(ctx context.Context, d *desktopApp, cs *mcp.ClientSession, host *sandbox.Host, out string) error {
	call := make(chan error, 1)
	go func() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "grant-network-permission",
			Arguments: map[string]any{"component_id": "calc", "details": map[string]any{"host": "api.example.com"}}})
		switch {
		case err != nil:
			call <- err
		case res.IsError:
			call <- fmt.Errorf("grant-network-permission failed: %+v", res.Content)
		default:
			call <- nil
		}
	}()
	// Wait for the question to show and its buttons to arm.
	var pos fyne.Position
	var size fyne.Size
	for {
		var ok bool
		fyne.DoAndWait(func() { pos, size, ok = d.prompter.ButtonBounds(sandbox.AllowOnce) })
		if ok {
			break
		}
		select {
		case err := <-call:
			return fmt.Errorf("the call ended before the question was answered: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("the question never showed: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := run("import", "-window", "root", filepath.Join(out, "question-dialog.png")); err != nil {
		return err
	}
	id, err := findWindow(ctx, "^Tapedeck asks$")
	if err != nil {
		return err
	}
	x, y := int(pos.X+size.Width/2), int(pos.Y+size.Height/2)
	if err := run("xdotool", "mousemove", "--window", id, fmt.Sprint(x), fmt.Sprint(y), "click", "1"); err != nil {
		return err
	}
	select {
	case err := <-call:
		if err != nil {
			return fmt.Errorf("after Allow once: %w", err)
		}
	case <-ctx.Done():
		return fmt.Errorf("the click on Allow once did not answer the question: %w", ctx.Err())
	}
	pi, err := host.Policy("calc")
	if err != nil {
		return err
	}
	if !strings.Contains(pi.YAML, "api.example.com") {
		return fmt.Errorf("the policy does not grant api.example.com after Allow once:\n%s", pi.YAML)
	}
	fyne.DoAndWait(d.showComponents)
	time.Sleep(500 * time.Millisecond) // let the window paint before the screenshot; not a pass/fail timing
	return run("import", "-window", "root", filepath.Join(out, "components-window.png"))
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
