//go:build linux

// Command appe2e plays an editor against the real Tapedeck binaries, for
// scripts/test-gui.sh (part 4), under Xvfb inside a DBus session with a tray
// host:
//
//  1. an editor-side go-sdk client runs `tapedeck mcp` (which starts a
//     headless owner) and loads a component through load-component;
//  2. the desktop app (`tapedeck` with no arguments) starts and takes over:
//     the headless owner exits and the app's pid is in the owner lock;
//  3. the same client session, through its relay, asks to grant the
//     component network access to a host; the app's question window shows;
//     the keyboard answers Allow once; the grant succeeds and get-policy
//     shows the host.
//
// The data dir is $TAPEDECK_DATA_DIR, which the script makes private.
// Screenshots go to -out. It prints "PASS: app and tapedeck mcp" on success
// and exits 1 with the reason otherwise; the app it started is stopped
// either way.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/ownerlock"
)

// grantedHost is the host the editor asks to reach.
const grantedHost = "api.example.com"

func main() {
	bin := flag.String("tapedeck", "build/tapedeck", "the tapedeck binary")
	component := flag.String("component", "", "the component to load (c-tool.wasm)")
	out := flag.String("out", "", "where screenshots and the app's log go")
	flag.Parse()
	if *component == "" || *out == "" || os.Getenv("TAPEDECK_DATA_DIR") == "" {
		fmt.Fprintln(os.Stderr, "usage: TAPEDECK_DATA_DIR=DIR appe2e -tapedeck BIN -component FILE.wasm -out DIR")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := &scenario{bin: *bin, component: *component, out: *out, data: os.Getenv("TAPEDECK_DATA_DIR")}
	err := s.run(ctx)
	s.stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: app and tapedeck mcp:", err)
		os.Exit(1)
	}
	fmt.Println("PASS: app and tapedeck mcp: the app took over from the headless owner, the editor's relay carried on, and Allow once let its grant through")
}

type scenario struct {
	bin, component, out, data string

	app      *exec.Cmd
	appDone  chan struct{}
	headless int // the pid of the headless owner `tapedeck mcp` started
}

func (s *scenario) run(ctx context.Context) error {
	// The component id comes from the file name: load it as calc.
	src := filepath.Join(s.data, "calc.wasm")
	wasm, err := os.ReadFile(s.component)
	if err != nil {
		return fmt.Errorf("reading the test component (run make testdata): %w", err)
	}
	if err := os.WriteFile(src, wasm, 0o600); err != nil {
		return err
	}

	editor := exec.Command(s.bin, "mcp")
	editor.Stderr = os.Stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "editor-appe2e", Version: "1.0"}, nil).
		Connect(ctx, &mcp.CommandTransport{Command: editor}, nil)
	if err != nil {
		return fmt.Errorf("connecting through `tapedeck mcp`: %w", err)
	}
	defer cs.Close()
	if _, err := callOK(ctx, cs, "load-component", map[string]any{"path": src}); err != nil {
		return err
	}
	headless, ok, err := ownerlock.ReadOwner(s.data)
	if err != nil || !ok {
		return fmt.Errorf("no owner in %s after `tapedeck mcp` loaded a component (ok=%v): %v", s.data, ok, err)
	}
	s.headless = headless.PID
	fmt.Printf("appe2e: the headless owner is pid %d; starting the app\n", s.headless)

	if err := s.startApp(); err != nil {
		return err
	}
	if err := s.awaitTakeOver(ctx); err != nil {
		return err
	}
	fmt.Printf("appe2e: the app (pid %d) owns the data dir; the headless owner exited\n", s.app.Process.Pid)

	// The same session, through the relay that reconnected to the app.
	if _, err := callOK(ctx, cs, "get-policy", map[string]any{"component_id": "calc"}); err != nil {
		return fmt.Errorf("the editor's session after the take-over: %w", err)
	}
	grant := make(chan error, 1)
	go func() {
		_, err := callOK(ctx, cs, "grant-network-permission",
			map[string]any{"component_id": "calc", "details": map[string]any{"host": grantedHost}})
		grant <- err
	}()
	win, err := findWindow(ctx, "^Tapedeck asks$", grant)
	if err != nil {
		return err
	}
	// The buttons stay inert for a moment after the question shows (the
	// key-delay guard) and inert buttons take no focus: wait it out, which
	// also lets the window paint for the screenshot. This is a wait, not a
	// pass/fail timing; the answer below decides.
	time.Sleep(2 * time.Second)
	if err := run("import", "-window", "root", filepath.Join(s.out, "app-question.png")); err != nil {
		return err
	}
	// Nothing has focus in a fresh window, so Shift+Tab focuses the last
	// button (Deny) and a second one the button before it, Allow once,
	// whether or not the Always buttons are offered. The keys go to the
	// focused window, not --window: xdotool would send the space's release
	// as a synthetic event once the answer hides the window, and the X
	// server would keep the key held down, auto-repeating.
	if err := run("xdotool", "windowfocus", "--sync", win, "key", "shift+Tab", "shift+Tab", "space"); err != nil {
		return err
	}
	select {
	case err := <-grant:
		if err != nil {
			return fmt.Errorf("after Allow once: %w", err)
		}
	case <-ctx.Done():
		return fmt.Errorf("Allow once did not answer the question: %w", ctx.Err())
	}
	res, err := callOK(ctx, cs, "get-policy", map[string]any{"component_id": "calc"})
	if err != nil {
		return err
	}
	if !strings.Contains(res, grantedHost) {
		return fmt.Errorf("get-policy does not show %s after Allow once:\n%s", grantedHost, res)
	}
	return run("import", "-window", "root", filepath.Join(s.out, "app-after-grant.png"))
}

// startApp starts the desktop app; it dies with this process (Pdeathsig)
// so a killed test leaves no app behind.
func (s *scenario) startApp() error {
	log, err := os.Create(filepath.Join(s.out, "appe2e-app.log"))
	if err != nil {
		return err
	}
	s.app = exec.Command(s.bin)
	s.app.Stdout, s.app.Stderr = log, log
	s.app.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.app.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting the app: %w", err)
	}
	s.appDone = make(chan struct{})
	go func() {
		_ = s.app.Wait()
		log.Close()
		close(s.appDone)
	}()
	return nil
}

// awaitTakeOver waits until the headless owner has exited and the owner
// lock names the app.
func (s *scenario) awaitTakeOver(ctx context.Context) error {
	for {
		o, ok, err := ownerlock.ReadOwner(s.data)
		if err == nil && ok && o.PID == s.app.Process.Pid && !alive(s.headless) {
			return nil
		}
		select {
		case <-s.appDone:
			return fmt.Errorf("the app exited instead of taking over (see %s)", filepath.Join(s.out, "appe2e-app.log"))
		case <-ctx.Done():
			return fmt.Errorf("the app did not take over (owner lock: %+v, headless pid %d alive: %v): %w", o, s.headless, alive(s.headless), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop ends the app (SIGTERM, then SIGKILL) and a headless owner still
// running.
func (s *scenario) stop() {
	if s.app != nil && s.app.Process != nil {
		_ = s.app.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.appDone:
		case <-time.After(30 * time.Second):
			_ = s.app.Process.Kill()
			<-s.appDone
		}
	}
	if s.headless > 0 && alive(s.headless) {
		_ = syscall.Kill(s.headless, syscall.SIGTERM)
	}
}

// alive reports whether pid runs. The headless owner is not our child (it
// runs in a session of its own), so once it exits it may linger as a zombie
// until its parent reaps it: that counts as gone.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// callOK calls a tool and returns its text, failing on a tool error.
func callOK(ctx context.Context, cs *mcp.ClientSession, tool string, args map[string]any) (string, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return "", fmt.Errorf("%s: %w", tool, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			text.WriteString(t.Text)
		}
	}
	if res.IsError {
		return "", fmt.Errorf("%s failed: %s", tool, text.String())
	}
	if text.Len() == 0 && res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		text.Write(b)
	}
	return text.String(), nil
}

// findWindow polls for a visible window by title (xdotool's --sync fails
// with BadWindow when windows come and go); a call ending first means the
// question was never asked.
func findWindow(ctx context.Context, title string, call <-chan error) (string, error) {
	for {
		if out, err := exec.Command("xdotool", "search", "--onlyvisible", "--name", title).Output(); err == nil {
			if ids := strings.Fields(string(out)); len(ids) > 0 {
				return ids[0], nil
			}
		}
		select {
		case err := <-call:
			return "", fmt.Errorf("the grant ended before a question window showed (error: %v)", err)
		case <-ctx.Done():
			return "", fmt.Errorf("no window titled %q: %w", title, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
