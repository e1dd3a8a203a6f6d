// Package appowner starts the desktop app as the owner of a data dir: it
// takes the data dir over from a headless Tapedeck if one runs (`tapedeck
// serve`, or the one an editor's `tapedeck mcp` started), opens it, and
// serves MCP on the data dir's socket and the person's control socket —
// MCP only once the app can ask the person.
//
// The windows are the caller's part (app/desktop, which needs cgo); this
// package needs neither cgo nor Fyne, so its tests run, with the race
// detector, beside the other non-GUI packages.
//
//	a, err := appowner.Start(ctx, appowner.Options{Dirs: dirs, Version: version})
//	if err != nil {
//		return err
//	}
//	defer a.Close()
//	// The windows set the question window as the Prompter through a.Host,
//	// which starts serving the MCP socket.
//	return desktop.Run(ctx, desktop.Deps{Host: a.Host, Secrets: a.Owner.Secrets, …})
package appowner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge"
	"tapedeck.dev/tapedeck/sandbox"
)

// DefaultTakeOverTimeout bounds the wait for a headless owner to finish its
// calls in flight and hand the data dir over, when Options leave it zero.
// It is longer than `tapedeck serve`'s own drain limit (30 s), so an owner
// that drains as long as it may still hands over in time.
const DefaultTakeOverTimeout = 45 * time.Second

// Options configure Start. Dirs is required; the rest may stay zero.
type Options struct {
	// Dirs are the data dir and its companions (paths.Resolve); Start
	// creates the folders that are missing.
	Dirs paths.Dirs
	// Version is Tapedeck's version, reported in MCP's initialize.
	Version string
	// Logger gets what goes wrong in the background; nil discards it.
	Logger *slog.Logger
	// TakeOverTimeout bounds the take-over; zero means
	// DefaultTakeOverTimeout.
	TakeOverTimeout time.Duration
	// SecretsFileOnly keeps secrets in the 0600 file instead of the OS
	// keychain (owner.Options); the app leaves it false.
	SecretsFileOnly bool
}

// App is the desktop app's ownership of a data dir, from Start to Close.
// Its fields are set by Start and must not be changed.
type App struct {
	// Owner is the opened data dir: its Host, secrets and activity log.
	Owner *owner.Owner
	// Host is Owner.Host as the windows take it: setting the question
	// window as its Prompter starts serving the MCP socket.
	Host Host

	lock   *ownerlock.Lock
	srv    *mcpbridge.Server
	stop   context.CancelFunc
	served sync.WaitGroup // the two sockets' serving goroutines
}

// Host is the data dir's sandbox Host with a SetPrompter that also lets the
// MCP socket serve, once a Prompter is set.
//
// Until then the Host has nobody to ask, and an editor's relay that
// reconnects at once after a take-over would have its grant requests
// refused as if headless. So its connection waits in the socket's backlog
// and is served, as any later one, from the first non-nil Prompter on.
type Host struct {
	*sandbox.Host
	prompting func() // called for each non-nil Prompter; only the first counts
}

// SetPrompter sets the Host's Prompter; the first non-nil one starts
// serving the MCP socket. Setting nil later (the app quitting) leaves the
// socket served until Close: the Host then refuses what it would ask.
func (h Host) SetPrompter(p sandbox.Prompter) {
	h.Host.SetPrompter(p)
	if p != nil {
		h.prompting()
	}
}

// Start makes this process the owner of opts.Dirs — taking over from the
// owner that runs, if one does, so that editors' relays reconnect to this
// process — opens the data dir, and listens on its MCP and control sockets.
// The control socket is served at once; the MCP socket accepts connections
// at once but serves them only after a.Host.SetPrompter sets a Prompter.
//
// The take-over asks the running owner to hand over (mcpbridge.TakeOver),
// then each new owner that takes the data dir meanwhile (a `tapedeck serve`
// started by hand, or by a relay that gave up waiting for this app).
//
// ctx bounds the take-over and the serving: when it is done the sockets
// stop serving. Close releases the rest.
//
// # Errors
//
// When the running owner does not hand over within opts.TakeOverTimeout
// (it may be finishing long calls) the error matches
// context.DeadlineExceeded and says to try again or stop that process. When
// ctx ends first, it matches ctx's error. Other errors come from the data
// dir, the sandbox or the sockets. No goroutine of Start outlives a failed
// Start, and the data dir is not owned then.
func Start(ctx context.Context, opts Options) (_ *App, err error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	timeout := opts.TakeOverTimeout
	if timeout <= 0 {
		timeout = DefaultTakeOverTimeout
	}
	if err := paths.Ensure(opts.Dirs); err != nil {
		return nil, err
	}
	mcpSocket := paths.SocketPath(opts.Dirs)
	lock, err := takeOver(ctx, opts.Dirs.Data, mcpSocket, timeout)
	if err != nil {
		return nil, fmt.Errorf("taking over the data dir from the running Tapedeck: %w", err)
	}
	a := &App{lock: lock, stop: func() {}}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Owner, err = owner.Open(ctx, owner.Options{Dirs: opts.Dirs, SecretsFileOnly: opts.SecretsFileOnly}); err != nil {
		return nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	catalog, err := owner.MCPCatalog()
	if err != nil {
		return nil, err
	}
	a.srv = mcpbridge.New(a.Owner.Host, mcpbridge.Options{Version: opts.Version, Catalog: catalog, Logger: logger})
	ln, err := mcpbridge.ListenSocket(mcpSocket, lock)
	if err != nil {
		return nil, err
	}
	cln, err := control.Listen(control.SocketPath(mcpSocket), lock)
	if err != nil {
		ln.Close()
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	a.stop = stop
	prompting := make(chan struct{})
	a.Host = Host{Host: a.Owner.Host, prompting: sync.OnceFunc(func() { close(prompting) })}
	a.served.Go(func() { a.serveMCP(sctx, ln, prompting, logger) })
	a.served.Go(func() {
		if err := control.Serve(sctx, cln, a.Owner); err != nil && sctx.Err() == nil {
			logger.Error("the control socket stopped", "error", err)
		}
	})
	return a, nil
}

// serveMCP serves the MCP socket from when prompting is closed until ctx is
// done. The connections that arrive before wait in the listener's backlog.
func (a *App) serveMCP(ctx context.Context, ln net.Listener, prompting <-chan struct{}, logger *slog.Logger) {
	select {
	case <-prompting:
	case <-ctx.Done():
		ln.Close()
		return
	}
	if err := a.srv.ServeSocket(ctx, ln); err != nil && ctx.Err() == nil {
		logger.Error("the MCP socket stopped", "error", err)
	}
}

// Close stops serving both sockets (closing their sessions), closes the
// Host and the activity log, and gives the data dir up. It waits for the
// serving goroutines to end. Call it once.
func (a *App) Close() error {
	a.stop()
	a.served.Wait()
	var errs []error
	if a.srv != nil {
		errs = append(errs, a.srv.Close())
	}
	if a.Owner != nil {
		errs = append(errs, a.Owner.Close(context.Background()))
	}
	errs = append(errs, a.lock.Close())
	return errors.Join(errs...)
}
