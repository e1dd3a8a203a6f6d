//go:build !nogui

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/app/desktop"
	"tapedeck.dev/tapedeck/app/handover"
	"tapedeck.dev/tapedeck/app/ui"
	"tapedeck.dev/tapedeck/internal/cli"
	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/mcpbridge/clients"
	"tapedeck.dev/tapedeck/sandbox"
)

// runApp starts the desktop app as the owner of the data dir; with no
// display it says so and runs the headless server instead.
func runApp(ctx context.Context) int {
	if !hasDisplay() {
		fmt.Fprintln(os.Stderr, "tapedeck: no display ($DISPLAY and $WAYLAND_DISPLAY are empty): running the headless server instead (tapedeck serve)")
		return cli.Run(ctx, &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, []string{"serve"})
	}
	if err := startApp(ctx); err != nil {
		if errors.Is(err, desktop.ErrAlreadyRunning) {
			fmt.Fprintln(os.Stderr, "tapedeck: already running; its window was raised")
			return 0
		}
		fmt.Fprintln(os.Stderr, "tapedeck:", err)
		return 1
	}
	return 0
}

// startApp makes this process the owner of the data dir — taking over from
// a headless owner (`tapedeck serve`, or the one `tapedeck mcp` started) if
// one runs, so editors' relays reconnect to the app — serves MCP on the
// data dir's socket and the person's control socket, and runs the app.
func startApp(ctx context.Context) error {
	dirs, err := paths.Resolve(paths.Options{})
	if err != nil {
		return err
	}
	if err := paths.Ensure(dirs); err != nil {
		return err
	}
	sock := filepath.Join(dirs.Data, "app.sock")
	if dirs.Runtime != "" {
		sock = filepath.Join(dirs.Runtime, "app.sock")
	}
	// A running app holds the owner lock: ask it to show itself instead.
	if handover.Ask(ctx, sock) == nil {
		return desktop.ErrAlreadyRunning
	}
	mcpSocket := paths.SocketPath(dirs)
	lock, err := takeOver(ctx, dirs.Data, mcpSocket)
	if err != nil {
		return fmt.Errorf("taking over the data dir from the running Tapedeck: %w", err)
	}
	defer lock.Close()
	o, err := owner.Open(ctx, owner.Options{Dirs: dirs})
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer o.Close(context.WithoutCancel(ctx))
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	catalog, err := owner.MCPCatalog()
	if err != nil {
		return err
	}
	srv := mcpbridge.New(o.Host, mcpbridge.Options{Version: cli.Version, Catalog: catalog, Logger: logger})
	defer srv.Close()
	ln, err := mcpbridge.ListenSocket(mcpSocket, lock)
	if err != nil {
		return err
	}
	cln, err := control.Listen(control.SocketPath(mcpSocket), lock)
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	// Serve editors only once the question window is the Host's Prompter:
	// before that the Host has no one to ask, and an editor's relay that
	// reconnects at once after a take-over would have its grant requests
	// refused as if headless. Until then its connection waits in the backlog.
	prompting := make(chan struct{})
	host := promptingHost{Host: o.Host, ready: sync.OnceFunc(func() { close(prompting) })}
	go func() {
		select {
		case <-prompting:
		case <-sctx.Done():
			ln.Close()
			return
		}
		if err := srv.ServeSocket(sctx, ln); err != nil && sctx.Err() == nil {
			logger.Error("the MCP socket stopped", "error", err)
		}
	}()
	go func() {
		if err := control.Serve(sctx, cln, o); err != nil && sctx.Err() == nil {
			logger.Error("the control socket stopped", "error", err)
		}
	}()
	deps := desktop.Deps{
		Host:           host,
		Settings:       hostSettings{o.Host},
		Secrets:        o.Secrets,
		ActivityDir:    dirs.Data,
		HandoverSocket: sock,
		Version:        cli.Version,
		Logger:         logger,
	}
	// The Connect editors window lists the editors either way; from a binary
	// in a temporary folder (as under `go run`) it cannot connect them, and
	// its connect buttons say so.
	exe, err := clients.Executable()
	if err != nil {
		logger.Warn("editors cannot be connected to this binary", "reason", err)
		exe = ""
	}
	deps.Editors = clients.New(clients.Options{Binary: exe})
	return desktop.Run(ctx, deps)
}

// takeOverTimeout bounds the wait for a headless owner to finish its calls
// in flight and hand the data dir over; takeOverPoll is how often the lock
// is tried meanwhile.
const (
	takeOverTimeout = 45 * time.Second
	takeOverPoll    = 10 * time.Millisecond
)

// takeOver makes this process the owner of dataDir, asking each owner that
// holds it to hand over. The owner can change meanwhile: an editor's relay
// that loses the old owner starts a new headless one at once, and that one
// may take the lock first (seen in scripts/test-gui.sh part 4). So the lock
// is tried often, to win it the moment it is free, and a new holder is
// asked to hand over too.
func takeOver(ctx context.Context, dataDir, socket string) (*ownerlock.Lock, error) {
	ctx, cancel := context.WithTimeout(ctx, takeOverTimeout)
	defer cancel()
	type taken struct {
		pid  int // the owner asked
		lock *ownerlock.Lock
		err  error
	}
	got := make(chan taken)
	asked := map[int]bool{}
	for {
		lock, err := ownerlock.Acquire(dataDir)
		var held *ownerlock.HeldError
		if !errors.As(err, &held) {
			return lock, err
		}
		if pid := held.Owner.PID; pid != 0 && pid != os.Getpid() && !asked[pid] {
			asked[pid] = true
			go func() {
				l, err := mcpbridge.TakeOver(ctx, dataDir, socket, "the desktop app")
				select {
				case got <- taken{pid, l, err}:
				case <-ctx.Done():
					if l != nil {
						l.Close()
					}
				}
			}()
		}
		select {
		case t := <-got:
			if t.err == nil {
				return t.lock, nil
			}
			// A new owner may hold the lock before it listens: ask again.
			delete(asked, t.pid)
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the running Tapedeck to hand over: %w (%v); it may still be finishing long calls: try again, or stop that process", ctx.Err(), err)
		case <-time.After(takeOverPoll):
		}
	}
}

// app is how the person's own changes from the app reach the Host.
var app = sandbox.Client{Name: "Tapedeck app", Transport: "app"}

// promptingHost tells, through ready, when the app has set the Host's
// Prompter (the question window).
type promptingHost struct {
	*sandbox.Host
	ready func()
}

func (h promptingHost) SetPrompter(p sandbox.Prompter) {
	h.Host.SetPrompter(p)
	if p != nil {
		h.ready()
	}
}

// hostSettings adapts the Host's component settings to the windows'.
type hostSettings struct{ h *sandbox.Host }

func (s hostSettings) Settings(id string) (ui.Limits, map[string]string, error) {
	st, err := s.h.Settings(id)
	if err != nil {
		return ui.Limits{}, nil, err
	}
	return ui.Limits{CallTimeout: st.CallTimeout, MemoryBytes: st.MemoryLimit}, st.Env, nil
}

func (s hostSettings) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return s.h.SetEnabled(ctx, id, enabled, app)
}

func (s hostSettings) SetLimits(ctx context.Context, id string, l ui.Limits) error {
	st, err := s.h.Settings(id)
	if err != nil {
		return err
	}
	st.CallTimeout, st.MemoryLimit = l.CallTimeout, l.MemoryBytes
	return s.h.SetSettings(ctx, id, st, app)
}

func (s hostSettings) SetEnv(ctx context.Context, id, key, value string) error {
	st, err := s.h.Settings(id)
	if err != nil {
		return err
	}
	env := map[string]string{}
	for k, v := range st.Env {
		env[k] = v
	}
	if value == "" {
		delete(env, key)
	} else {
		env[key] = value
	}
	st.Env = env
	return s.h.SetSettings(ctx, id, st, app)
}

// hasDisplay reports whether a desktop session can show windows. macOS and
// Windows always can; elsewhere it takes X11 or Wayland.
func hasDisplay() bool {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
