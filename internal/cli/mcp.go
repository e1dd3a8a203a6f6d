package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge/relay"
)

// ownerLogFile is where a headless owner started by `tapedeck mcp` writes.
const ownerLogFile = "owner.log"

var mcpCmd = &Command{
	Name:  "mcp",
	Short: "the stdio MCP server editors launch (relays to the running Tapedeck)",
	Long: `Point an editor's MCP configuration at 'tapedeck mcp'. It relays the editor's
session to the Tapedeck that owns the data dir (the tray app or 'tapedeck
serve'), so every editor shares one set of components and permissions. When
none runs, it starts a headless one in the background (its log is owner.log
in the data dir) and relays to it.`,
	Run: runMCP,
}

func runMCP(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		return UsageError("mcp takes no arguments")
	}
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return err
	}
	if err := paths.Ensure(dirs); err != nil {
		return err
	}
	startOwner := func(context.Context) error {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding this program to start the owner: %w", err)
		}
		// The owner must resolve the same folders: pass --data-dir only when
		// it was given (an explicit data dir moves every folder inside it);
		// TAPEDECK_DATA_DIR and the XDG variables pass through the environment.
		var args []string
		if env.DataDir != "" {
			args = append(args, "--data-dir", dirs.Data)
		}
		args = append(args, "serve", "--owner-only")
		return relay.StartDetached(exe, args, dirs.Data, filepath.Join(dirs.Data, ownerLogFile))
	}
	return relay.Run(ctx, env.Stdin, env.Stdout, relay.Options{Socket: paths.SocketPath(dirs), StartOwner: startOwner, DataDir: dirs.Data})
}
