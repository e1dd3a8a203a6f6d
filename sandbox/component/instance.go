package component

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Instance is one instantiation of a component: its core module instances,
// its canonical-ABI state (handle tables) and the state host interfaces keep
// for it. Tapedeck makes a fresh Instance per tool call, so nothing leaks
// from one call to the next.
//
// An Instance is not safe for concurrent calls: the Component Model forbids
// re-entering an instance, and a second concurrent Call returns an error.
type Instance struct {
	mu        sync.Mutex
	hostState map[any]any
	closers   []io.Closer
	closed    bool // calls refused
	closing   bool // Close has begun

	link *linked // the linked core instances; nil until the linker fills it
}

type instanceKey struct{}

// InstanceFromContext returns the Instance whose call is running on ctx, or
// nil. Host functions use it to reach per-instance state.
func InstanceFromContext(ctx context.Context) *Instance {
	i, _ := ctx.Value(instanceKey{}).(*Instance)
	return i
}

// WithInstance returns ctx carrying inst, as the runtime does for every call.
// Tests of host interfaces use it to call a HostFunc outside a component.
func WithInstance(ctx context.Context, inst *Instance) context.Context {
	return context.WithValue(ctx, instanceKey{}, inst)
}

// NewHostInstance returns an Instance with no component behind it, holding
// only host state: for testing host interfaces without a guest.
func NewHostInstance() *Instance { return &Instance{} }

// HostState returns the value stored under key for this instance, calling
// init to create it on first use. Host interfaces keep per-instance state
// here (open streams, captured output, the environment) under unexported
// key types of their own. A value that is an io.Closer is closed when the
// instance closes.
func (i *Instance) HostState(key any, init func() any) any {
	i.mu.Lock()
	defer i.mu.Unlock()
	if v, ok := i.hostState[key]; ok {
		return v
	}
	v := init()
	if i.hostState == nil {
		i.hostState = map[any]any{}
	}
	i.hostState[key] = v
	if c, ok := v.(io.Closer); ok {
		i.closers = append(i.closers, c)
	}
	return v
}

// closeHostState closes every io.Closer kept in host state, newest first.
func (i *Instance) closeHostState() error {
	i.mu.Lock()
	closers := i.closers
	i.closers = nil
	i.closed = true
	i.mu.Unlock()
	var errs []error
	for j := len(closers) - 1; j >= 0; j-- {
		errs = append(errs, closers[j].Close())
	}
	return errors.Join(errs...)
}
