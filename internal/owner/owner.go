// Package owner opens what the owner of a data dir runs: the sandbox Host
// with its component directory, compilation cache, secrets and activity
// log. `tapedeck serve` and the desktop app both start it this way, so they
// share one state whichever of them owns the data dir.
//
// Taking the owner lock and serving the socket are the caller's part.
package owner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tapedeck.dev/tapedeck/assets"
	"tapedeck.dev/tapedeck/internal/config"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
	"tapedeck.dev/tapedeck/sandbox/secrets"
)

// Options configure Open.
type Options struct {
	Dirs paths.Dirs
	// Env are values given on the command line (--env, --env-file); they
	// win over the process environment as the last source of values for
	// the variables a policy allows.
	Env map[string]string
	// AllowAgentGrants and TrustBundledPolicy are the serve flags of the
	// same names (see sandbox.Options).
	AllowAgentGrants   bool
	TrustBundledPolicy bool
	// Prompter asks the person; nil for headless.
	Prompter sandbox.Prompter
	// SecretsFileOnly keeps secrets in the 0600 file instead of the keychain.
	SecretsFileOnly bool
}

// Owner is an opened data dir.
type Owner struct {
	Host     *sandbox.Host
	Secrets  *secrets.Secrets
	Activity *activity.Log
	Dirs     paths.Dirs
	// Settings are the person's settings (config.toml in Dirs.Config, the
	// defaults without one) the owner was opened with: its questions wait
	// Settings.PromptTimeout.
	Settings config.Settings
}

// ComponentsDir is where a data dir keeps its components.
func ComponentsDir(d paths.Dirs) string { return filepath.Join(d.Data, "components") }

// CacheDir is where a data dir keeps compiled code.
func CacheDir(d paths.Dirs) string { return filepath.Join(d.Cache, "wazero") }

// Open creates the data dir's folders if needed and starts its Host.
// Components already installed are listed at once and compiled in the
// background.
func Open(ctx context.Context, opts Options) (*Owner, error) {
	if err := paths.Ensure(opts.Dirs); err != nil {
		return nil, err
	}
	settings := config.Defaults()
	if opts.Dirs.Config != "" {
		var err error
		if settings, err = config.Load(opts.Dirs.Config); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{ComponentsDir(opts.Dirs), CacheDir(opts.Dirs)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("owner: %w", err)
		}
	}
	sec, err := secrets.Open(secrets.Options{Dir: opts.Dirs.Data, FileOnly: opts.SecretsFileOnly})
	if err != nil {
		return nil, err
	}
	act, err := activity.Open(activity.Options{Dir: opts.Dirs.Data, Redactor: sec.Redactor()})
	if err != nil {
		return nil, err
	}
	host, err := sandbox.New(ctx, sandbox.Options{
		Dir:                ComponentsDir(opts.Dirs),
		CacheDir:           CacheDir(opts.Dirs),
		Protected:          paths.Protected(opts.Dirs),
		Secrets:            sec,
		Activity:           act,
		Prompter:           opts.Prompter,
		PromptTimeout:      settings.PromptTimeout,
		AllowAgentGrants:   opts.AllowAgentGrants,
		TrustBundledPolicy: opts.TrustBundledPolicy,
		Env:                ownEnvironment(opts.Env),
	})
	if err != nil {
		act.Close()
		return nil, err
	}
	return &Owner{Host: host, Secrets: sec, Activity: act, Dirs: opts.Dirs, Settings: settings}, nil
}

// ownEnvironment is Tapedeck's own environment with the command line's
// values over it: what Wassette's policies (context7's, say) rely on for the
// variables they allow. Components never see a key their policy does not allow.
func ownEnvironment(extra map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// Close stops the Host and closes the log.
func (o *Owner) Close(ctx context.Context) error {
	return errors.Join(o.Host.Close(ctx), o.Activity.Close())
}

// MCPCatalog is the shipped component catalog, as the MCP server's
// search-components tool takes it.
func MCPCatalog() ([]mcpbridge.CatalogEntry, error) {
	entries, err := assets.Catalog()
	if err != nil {
		return nil, err
	}
	out := make([]mcpbridge.CatalogEntry, len(entries))
	for i, e := range entries {
		out[i] = mcpbridge.CatalogEntry{Name: e.Name, Description: e.Description, URI: e.URI}
	}
	return out, nil
}
