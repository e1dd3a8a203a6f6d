//go:build !nogui

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"tapedeck.dev/tapedeck/app/desktop"
	"tapedeck.dev/tapedeck/app/display"
	"tapedeck.dev/tapedeck/app/handover"
	"tapedeck.dev/tapedeck/app/ui"
	"tapedeck.dev/tapedeck/internal/appowner"
	"tapedeck.dev/tapedeck/internal/cli"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge/clients"
)

// runApp starts the desktop app as the owner of the data dir; with no
// display it says so and runs the headless server instead.
func runApp(ctx context.Context) int {
	if err := display.Check(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "tapedeck: no display to show windows on (%s): running the headless server instead (tapedeck serve)\n", strings.ReplaceAll(err.Error(), "\n", "; "))
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
		Settings:       ui.HostSettings(a.Owner.Host),
		Secrets:        a.Owner.Secrets,
		ActivityDir:    dirs.Data,
		HandoverSocket: sock,
		Version:        cli.Version,
		Logger:         logger,
		// The question window denies when the Host would: config's prompt-timeout.
		QuestionTimeout: a.Owner.Settings.PromptTimeout,
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
