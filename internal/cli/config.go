package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"tapedeck.dev/tapedeck/internal/config"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
)

var configCmd = &Command{
	Name:  "config",
	Args:  "get [KEY] [-o table|json|yaml] | set KEY VALUE | http-token rotate",
	Short: "read and change Tapedeck's settings",
	Long: `Settings live in config.toml in the config folder:
  prompt-timeout  how long a question waits for an answer before it is denied (e.g. 90s)
  http            whether the owner also serves MCP over HTTP (on or off)
  http-address    where: a loopback host:port such as 127.0.0.1:8787
A running Tapedeck reads them when it starts. 'http-token rotate' replaces the
HTTP bearer token; a running Tapedeck serving HTTP takes the new one when it
restarts, and from then on clients holding the old one are refused.`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "config", args, map[string]func(context.Context, *Env, []string) error{
			"get": configGet, "set": configSet, "http-token": configToken,
		})
	},
}

func configDir(env *Env) (string, error) {
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return "", err
	}
	return dirs.Config, nil
}

func configGet(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "config get", "[KEY] [-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return UsageError("config get: want at most one key")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	dir, err := configDir(env)
	if err != nil {
		return err
	}
	s, err := config.Load(dir)
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		v, err := s.Get(pos[0])
		if err != nil {
			return UsageError("%v", err)
		}
		return writeData(env.Stdout, format, map[string]string{pos[0]: v}, func(w io.Writer) { fmt.Fprintln(w, v) })
	}
	all := s.All()
	return writeData(env.Stdout, format, all, func(w io.Writer) {
		for _, k := range config.Keys() {
			fmt.Fprintf(w, "%s\t%s\n", k, all[k])
		}
	})
}

func configSet(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "config set", "KEY VALUE")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return UsageError("config set: want a key and a value")
	}
	dir, err := configDir(env)
	if err != nil {
		return err
	}
	s, err := config.Load(dir)
	if err != nil {
		return err
	}
	if err := s.Set(pos[0], pos[1]); err != nil {
		return UsageError("%v", err)
	}
	if err := config.Save(dir, s); err != nil {
		return err
	}
	v, _ := s.Get(pos[0])
	fmt.Fprintf(env.Stdout, "%s = %s (a running Tapedeck uses it from its next start)\n", pos[0], v)
	return nil
}

func configToken(ctx context.Context, env *Env, args []string) error {
	if len(args) != 1 || args[0] != "rotate" {
		return UsageError("config http-token: the only sub-command is rotate")
	}
	dir, err := configDir(env)
	if err != nil {
		return err
	}
	if _, err := mcpbridge.RotateToken(dir); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "rotated the HTTP token in %s; restart a running Tapedeck, then give HTTP clients the new one\n", filepath.Join(dir, mcpbridge.TokenFile))
	return nil
}
