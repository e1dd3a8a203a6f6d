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

	"tapedeck.dev/tapedeck/app/desktop"
	"tapedeck.dev/tapedeck/app/handover"
	"tapedeck.dev/tapedeck/app/ui"
	"tapedeck.dev/tapedeck/internal/appowner"
	"tapedeck.dev/tapedeck/internal/cli"
	"tapedeck.dev/tapedeck/internal/paths"
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

// startApp makes this process the owner of the data dir (appowner: taking
// over from a headless owner if one runs, so editors' relays reconnect to
// the app; serving MCP once the question window can ask) and runs the app.
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
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := appowner.Start(ctx, appowner.Options{Dirs: dirs, Version: cli.Version, Logger: logger})
	if err != nil {
		return err
	}
	defer a.Close()
	deps := desktop.Deps{
		Host:           a.Host, // the question window becoming its Prompter opens the MCP socket
		Settings:       hostSettings{a.Owner.Host},
		Secrets:        a.Owner.Secrets,
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

// app is how the person's own changes from the app reach the Host.
var app = sandbox.Client{Name: "Tapedeck app", Transport: "app"}

// hostSettings adapts the Host's component settings to the windows'. It
// stays here rather than in internal/appowner because it speaks app/ui's
// types, and app/ui brings Fyne, which the non-GUI packages never import.
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
