package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version, set by the linker for release builds
// (-X tapedeck.dev/tapedeck/internal/cli.Version=1.2.3).
var Version = "dev"

var versionCmd = &Command{
	Name:  "version",
	Short: "print Tapedeck's version",
	Run: func(ctx context.Context, env *Env, args []string) error {
		if len(args) > 0 {
			return UsageError("version takes no arguments")
		}
		rev := ""
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					rev = " (" + s.Value[:12] + ")"
				}
			}
		}
		fmt.Fprintf(env.Stdout, "tapedeck %s%s %s/%s %s\n", Version, rev, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return nil
	},
}
