package ui

import (
	"context"
	"time"

	"tapedeck.dev/tapedeck/sandbox"
)

// Backend is what the windows need of the sandbox. *sandbox.Host satisfies it.
type Backend interface {
	List() []sandbox.ComponentInfo
	Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error)
	Unload(ctx context.Context, id string, by sandbox.Client) error
	Policy(id string) (*sandbox.PolicyInfo, error)
	Revoke(ctx context.Context, id string, p sandbox.Permission, by sandbox.Client) error
	Reset(ctx context.Context, id string, by sandbox.Client) error
	Subscribe(ctx context.Context) <-chan sandbox.Event
	Pause()
	Resume()
	Paused() bool
}

// ComponentSettings changes the per-component settings the Host keeps
// (sandbox/store.Settings); HostSettings adapts a Host to it. A nil
// ComponentSettings leaves those controls off.
type ComponentSettings interface {
	// Settings returns the current values for id.
	Settings(id string) (Limits, map[string]string, error)
	SetEnabled(ctx context.Context, id string, enabled bool) error
	// SetLimits sets the call timeout and memory limit; zero means the default.
	SetLimits(ctx context.Context, id string, l Limits) error
	// SetEnv sets the value of an environment variable the policy allows;
	// an empty value removes it.
	SetEnv(ctx context.Context, id, key, value string) error
}

// Limits are a component's resource limits; zero fields mean the default.
type Limits struct {
	CallTimeout time.Duration
	MemoryBytes int64
}

// Secrets is what the secrets editor needs; *secrets.Secrets satisfies it.
type Secrets interface {
	List(component string) ([]string, error)
	Set(component, key, value string) error
	Delete(component, key string) error
}

// appClient marks the person's own actions in the app to the Host.
func appClient() sandbox.Client { return sandbox.Client{Name: "Tapedeck app", Transport: "app"} }
