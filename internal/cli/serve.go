package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/mcpbridge/relay"
)

const serveArgs = "[--stdio | --http ADDR [--http-no-auth]] [--env K=V]… [--env-file F] [--allow-agent-grants] [--trust-bundled-policy]"

var serveCmd = &Command{
	Name:  "serve",
	Args:  serveArgs,
	Short: "run the headless MCP server (the owner of the data dir)",
	Long: `Takes ownership of the data dir and serves MCP on its local socket, where
'tapedeck mcp' (what editors launch) and the other verbs reach it. With --stdio
it also serves one session on stdin/stdout (when another process already owns
the data dir, --stdio relays to it instead, so state never forks). With --http
it also serves streamable HTTP on ADDR, which must be a loopback address; every
request needs the bearer token from the file http-token in the config folder,
unless --http-no-auth (then every local user can call every tool).

--env K=V and --env-file F (lines of K=V) give values for environment variables
that component policies allow. Agents cannot grant permissions to components
on a headless server unless --allow-agent-grants; a policy that comes with a
component is applied only with --trust-bundled-policy.`,
	Run: runServe,
}

// serveOptions are serve's settings, for the Backend constructor.
type serveOptions struct {
	Dirs paths.Dirs
	// Env holds the values given with --env and --env-file.
	Env map[string]string
	// AllowAgentGrants lets grant-* tool calls from agents through
	// without a person (headless has nobody to ask).
	AllowAgentGrants bool
	// TrustBundledPolicy applies policies that arrive with components.
	TrustBundledPolicy bool
}

// backendSetup is what serve needs from the sandbox.
type backendSetup struct {
	Backend mcpbridge.Backend
	// Catalog is what search-components searches; may be empty.
	Catalog []mcpbridge.CatalogEntry
	// Close releases the backend; may be nil.
	Close func()
	// Owner is the opened data dir behind Backend, for the control socket;
	// nil in tests with a fake backend.
	Owner *owner.Owner
}

// newBackend builds the sandbox Host for serve; tests replace it with a fake.
var newBackend = openOwner

// handoverDrainTimeout bounds how long a hand-over waits for calls in flight.
const handoverDrainTimeout = 30 * time.Second

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", serveArgs)
	stdio := fs.Bool("stdio", false, "also serve one MCP session on stdin/stdout")
	httpAddr := fs.String("http", "", "also serve streamable HTTP on this loopback address, e.g. 127.0.0.1:8787")
	noAuth := fs.Bool("http-no-auth", false, "serve HTTP without a token (every local user can call every tool)")
	var envPairs multiFlag
	fs.Var(&envPairs, "env", "an environment value K=V for components whose policy allows K (repeatable)")
	envFile := fs.String("env-file", "", "a file of K=V lines, as --env")
	allowGrants := fs.Bool("allow-agent-grants", false, "let agents' grant-* tool calls through without a person")
	trustBundled := fs.Bool("trust-bundled-policy", false, "apply policies that arrive with components without asking")
	ownerOnly := fs.Bool("owner-only", false, "become the owner if none runs, else exit at once (what 'tapedeck mcp' starts)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return UsageError("serve takes no arguments, only flags")
	case *stdio && *ownerOnly:
		return UsageError("--stdio and --owner-only do not go together")
	case *noAuth && *httpAddr == "":
		return UsageError("--http-no-auth needs --http ADDR")
	}
	values, err := envValues(envPairs, *envFile)
	if err != nil {
		return UsageError("%v", err)
	}
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return err
	}
	if err := paths.Ensure(dirs); err != nil {
		return err
	}
	socket := paths.SocketPath(dirs)

	lock, err := ownerlock.Acquire(dirs.Data)
	var held *ownerlock.HeldError
	switch {
	case errors.As(err, &held) && *ownerOnly:
		return nil // another owner won: the relay that started us connects to it
	case errors.As(err, &held) && *stdio:
		// Serving here would fork the state: be a relay to the owner.
		return relay.Run(ctx, env.Stdin, env.Stdout, relay.Options{Socket: socket})
	case errors.As(err, &held):
		return fmt.Errorf("%w; it serves on %s ('tapedeck mcp' connects to it), or stop it first", held, socket)
	case err != nil:
		return err
	}
	defer lock.Close()

	setup, err := newBackend(ctx, env, serveOptions{Dirs: dirs, Env: values, AllowAgentGrants: *allowGrants, TrustBundledPolicy: *trustBundled})
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	if setup.Close != nil {
		defer setup.Close()
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	handover := make(chan struct{})
	srv := mcpbridge.New(setup.Backend, mcpbridge.Options{
		Version: Version, Catalog: setup.Catalog, TrustBundledPolicy: *trustBundled, Logger: logger,
		OnHandover: func(taker int) { // called once
			if taker > 0 {
				// Relays that lose us wait for the taker instead of
				// starting an owner that could take the lock first.
				if err := lock.HandingOver(taker); err != nil {
					logger.Warn("relays may start another owner during the hand-over", "error", err)
				}
			}
			close(handover)
		},
	})
	defer srv.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errs <- err
			}
			cancel() // one transport ending ends the server
		}()
	}

	ln, err := mcpbridge.ListenSocket(socket, lock)
	if err != nil {
		return err
	}
	logger.Info("serving MCP", "socket", socket)
	run(func() error { return srv.ServeSocket(ctx, ln) })
	if setup.Owner != nil {
		// The person's own commands (grants, secrets, settings) reach the
		// owner on a socket of their own, which no relay forwards to.
		cln, err := control.Listen(control.SocketPath(socket), lock)
		if err != nil {
			return err
		}
		run(func() error { return control.Serve(ctx, cln, setup.Owner) })
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-handover:
			// Another process (the tray app) takes over: stop accepting,
			// let calls in flight finish, then end; the deferred lock.Close
			// lets it in, and the relays reconnect to it.
			ln.Close()
			drainCtx, stop := context.WithTimeout(ctx, handoverDrainTimeout)
			if err := srv.Drain(drainCtx); err != nil {
				logger.Warn("handing over with calls still running", "error", err)
			}
			stop()
			logger.Info("handed ownership over; exiting")
			cancel()
		}
	}()

	if *httpAddr != "" {
		opts := mcpbridge.HTTPOptions{NoAuth: *noAuth}
		if !*noAuth {
			if opts.Token, err = mcpbridge.LoadOrCreateToken(dirs.Config); err != nil {
				cancel()
				wg.Wait()
				return err
			}
		}
		hln, err := mcpbridge.ListenHTTP(*httpAddr)
		if err != nil {
			cancel()
			wg.Wait()
			return UsageError("%v", err)
		}
		logger.Info("serving MCP over HTTP", "url", "http://"+hln.Addr().String()+"/mcp", "token_file", dirs.Config+string(os.PathSeparator)+mcpbridge.TokenFile)
		run(func() error { return srv.ServeHTTP(ctx, hln, opts) })
	}
	if *stdio {
		run(func() error { return srv.RunStdio(ctx, env.Stdin, env.Stdout) })
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// envValues merges --env-file lines and --env pairs (the flags win).
func envValues(pairs []string, file string) (map[string]string, error) {
	values := map[string]string{}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("--env-file %s line %d: want KEY=VALUE", file, n)
			}
			values[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--env-file %s: %w", file, err)
		}
	}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--env %q: want KEY=VALUE", p)
		}
		values[k] = v
	}
	return values, nil
}

// unquote strips one pair of matching quotes, as .env files write them.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
