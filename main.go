// Command tapedeck runs MCP tools as sandboxed WebAssembly components and
// serves them to AI editors. With no arguments it starts the desktop app;
// otherwise it runs one command-line verb (see `tapedeck help`).
package main

import (
	"context"
	"os"
	"os/signal"

	"golang.org/x/term"

	"tapedeck.dev/tapedeck/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) < 2 {
		os.Exit(runApp(ctx))
	}
	env := &cli.Env{
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
	}
	os.Exit(cli.Run(ctx, env, os.Args[1:]))
}
