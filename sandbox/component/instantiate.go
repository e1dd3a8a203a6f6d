package component

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"tapedeck.dev/tapedeck/sandbox/component/internal/abi"
	"tapedeck.dev/tapedeck/sandbox/component/internal/binary"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// linked holds the live core module instances of one component Instance and
// the plan's host calls bound to them.
type linked struct {
	comp   *Component
	eng    *engine
	mods   []api.Module // per plan step
	abi    *abi.Instance
	budget *memoryBudget
	// bound caches each host call's options, bound on first use: the
	// memory and realloc they name may live in a core instance created
	// after the call's function was wired in (the fixup pattern).
	bound []*abi.Options
	// exports caches bound export options by *compFunc.
	exports map[*compFunc]*boundExport
	inCall  bool
}

type boundExport struct {
	fn   api.Function
	opts *abi.Options
}

// InstantiateOptions configures one Instance. The zero value is usable.
type InstantiateOptions struct {
	// MemoryLimit caps the instance's linear memory, in bytes, all its
	// memories together. Zero means DefaultMemoryLimit.
	MemoryLimit uint64
}

// coreModuleConfig is the configuration of every core instance: unnamed (a
// component's core instances are reached through the link plan, never by
// name), start functions run by the plan, and a random source set so that
// wazero does not seed a math/rand generator for each core instance (a
// third of a C tool's served call, see sandbox/RATIONALE.md). Nothing
// reads it: components get randomness from sandbox/wasi, which reads
// crypto/rand itself; were wasi_snapshot_preview1 ever served, it would read
// real randomness, never a predictable sequence. A ModuleConfig is
// immutable, so one serves every instantiation.
var coreModuleConfig = wazero.NewModuleConfig().WithName("").WithStartFunctions().WithRandSource(rand.Reader)

// Instantiate creates a fresh instance of the component: it instantiates
// every core module in the component's order, running their start
// functions, with host calls reaching the host interfaces.
func (c *Component) Instantiate(ctx context.Context, opts InstantiateOptions) (*Instance, error) {
	limit := opts.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	eng, err := c.acquire()
	if err != nil {
		return nil, err
	}
	inst := &Instance{}
	l := &linked{
		comp:    c,
		eng:     eng,
		mods:    make([]api.Module, len(c.plan.steps)),
		abi:     abi.NewInstance(),
		budget:  &memoryBudget{limit: limit},
		bound:   make([]*abi.Options, len(c.plan.host)),
		exports: map[*compFunc]*boundExport{},
	}
	l.abi.BindHostResources(c.plan.hostResources)
	inst.link = l
	ctx = WithInstance(ctx, inst)
	for i, st := range c.plan.steps {
		st := st
		rctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
			if s, ok := st.args[name]; ok {
				return l.mods[s]
			}
			return nil
		})
		rctx = experimental.WithMemoryAllocator(rctx, l.budget.allocator(st.module.dataSize()))
		mod, err := eng.wz.InstantiateModule(rctx, eng.compiled[st.module.index], coreModuleConfig)
		if err == nil {
			err = l.budget.err()
		}
		if err != nil {
			inst.Close(ctx)
			return nil, fmt.Errorf("component: instantiating the core instance at byte offset %#x: %w", st.where, callError(err, l))
		}
		l.mods[i] = mod
	}
	for _, d := range c.plan.dtors {
		fn, err := l.coreFunc(d.fn)
		if err != nil {
			inst.Close(ctx)
			return nil, err
		}
		l.abi.SetDestructor(d.resource, func(ctx context.Context, rep uint32) error {
			_, err := fn.Call(ctx, uint64(rep))
			return err
		})
	}
	for _, start := range c.plan.starts {
		if _, err := inst.call(ctx, start, nil); err != nil {
			inst.Close(ctx)
			return nil, fmt.Errorf("component: start function: %w", err)
		}
	}
	return inst, nil
}

// Call calls an exported function with arguments as package types
// documents, and returns its results.
//
// # Errors
//
// A guest trap, an out-of-bounds pointer or any other guest fault returns
// an error (a *TrapError); so do a deadline on ctx (the guest is stopped;
// errors.Is(err, context.DeadlineExceeded) holds) and a memory limit (a
// *LimitError). After such an error the instance is unusable: close it and
// make a new one. Calls on one Instance must not overlap.
func (i *Instance) Call(ctx context.Context, f *Func, args []any) ([]any, error) {
	if i.link == nil {
		return nil, errors.New("component: call on an instance with no component")
	}
	return i.call(WithInstance(ctx, i), f.fn, args)
}

func (i *Instance) call(ctx context.Context, f *compFunc, args []any) ([]any, error) {
	l := i.link
	i.mu.Lock()
	if i.closed || i.closing {
		i.mu.Unlock()
		return nil, errors.New("component: call on a closed instance")
	}
	if l.inCall {
		i.mu.Unlock()
		return nil, errors.New("component: instance is already in a call (calls on one instance must not overlap)")
	}
	l.inCall = true
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		l.inCall = false
		closed := i.closing
		i.mu.Unlock()
		if closed {
			// Close ran during the call and left the memories to us.
			l.budget.release()
		}
	}()
	if f.host != nil {
		// A re-exported import: call the host directly.
		return f.host.Fn(ctx, args)
	}
	be, err := l.bindExport(f)
	if err != nil {
		return nil, err
	}
	res, err := be.opts.CallExport(ctx, be.fn, f.typ, args)
	if err != nil {
		if res, ok := exitResult(err, f.typ); ok {
			return res, nil
		}
		return nil, callError(err, l)
	}
	return res, nil
}

// exitStatus is implemented by a host function's error that ends the call
// because the guest asked to exit (wasi:cli/exit).
type exitStatus interface {
	error
	ExitStatus() int
}

// exitResult turns a guest's exit into the function's result where the
// function's type allows it, as a command's run does: no results and status
// 0 is success; a result<_, _> is ok for status 0 and err otherwise.
func exitResult(err error, ft *types.Func) ([]any, bool) {
	var es exitStatus
	if !errors.As(err, &es) {
		return nil, false
	}
	switch {
	case len(ft.Results) == 0 && es.ExitStatus() == 0:
		return nil, true
	case len(ft.Results) == 1 && ft.Results[0].Type.Kind == types.Result &&
		ft.Results[0].Type.OK == nil && ft.Results[0].Type.Err == nil:
		c := uint32(0)
		if es.ExitStatus() != 0 {
			c = 1
		}
		return []any{types.VariantValue{Case: c}}, true
	}
	return nil, false
}

// MemoryLimitReached returns a *LimitError when the instance asked for more
// memory than its limit allowed at some point, nil otherwise. A guest that
// handles a failed allocation goes on with less memory, so its call may
// succeed; this says why it had less.
func (i *Instance) MemoryLimitReached() error {
	if i.link == nil {
		return nil
	}
	return i.link.budget.err()
}

// TrapError is a call that ended because the guest trapped or misbehaved.
type TrapError struct {
	Err error
}

func (e *TrapError) Error() string { return "the component trapped: " + e.Err.Error() }
func (e *TrapError) Unwrap() error { return e.Err }

// callError classifies an error from a guest call: a memory limit, a
// deadline, an exit, or a trap.
func callError(err error, l *linked) error {
	if lerr := l.budget.err(); lerr != nil {
		return fmt.Errorf("%w (%v)", lerr, firstLine(err))
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("the call ran out of time and was stopped: %w", context.DeadlineExceeded)
		case sys.ExitCodeContextCanceled:
			return fmt.Errorf("the call was cancelled: %w", context.Canceled)
		}
	}
	var he *hostError
	if errors.As(err, &he) {
		var trap *abi.Trap
		if errors.As(he.err, &trap) {
			// The guest broke a canonical ABI rule while calling the host.
			return &TrapError{Err: he.err}
		}
		return he.err
	}
	return &TrapError{Err: err}
}

func firstLine(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// hostError carries an error a host function returned through wazero's
// panic recovery, so the caller sees the host's error itself.
type hostError struct{ err error }

func (e *hostError) Error() string { return e.err.Error() }
func (e *hostError) Unwrap() error { return e.err }

func (l *linked) coreFunc(ref coreRef) (api.Function, error) {
	if ref.Step == hostStep {
		fn := l.eng.hostMod.ExportedFunction(ref.Name)
		if fn == nil {
			return nil, fmt.Errorf("component: linking: host function %s missing", ref.Name)
		}
		return fn, nil
	}
	fn := l.mods[ref.Step].ExportedFunction(ref.Name)
	if fn == nil {
		return nil, fmt.Errorf("component: linking: core instance %d exports no function %q", ref.Step, ref.Name)
	}
	return fn, nil
}

func (l *linked) bindOpts(o optsPlan) (*abi.Options, error) {
	opts := &abi.Options{Instance: l.abi, Encoding: o.encoding}
	if o.memory != nil {
		if o.memory.Step == hostStep || l.mods[o.memory.Step] == nil {
			return nil, errors.New("component: linking: a canonical option names a memory that does not exist yet")
		}
		mem := l.mods[o.memory.Step].ExportedMemory(o.memory.Name)
		if mem == nil {
			return nil, fmt.Errorf("component: linking: core instance %d exports no memory %q", o.memory.Step, o.memory.Name)
		}
		opts.Memory = mem
	}
	var err error
	if o.realloc != nil {
		if opts.Realloc, err = l.coreFunc(*o.realloc); err != nil {
			return nil, err
		}
	}
	if o.postReturn != nil {
		if opts.PostReturn, err = l.coreFunc(*o.postReturn); err != nil {
			return nil, err
		}
	}
	return opts, nil
}

func (l *linked) bindExport(f *compFunc) (*boundExport, error) {
	if be, ok := l.exports[f]; ok {
		return be, nil
	}
	fn, err := l.coreFunc(*f.core)
	if err != nil {
		return nil, err
	}
	opts, err := l.bindOpts(f.opts)
	if err != nil {
		return nil, err
	}
	be := &boundExport{fn: fn, opts: opts}
	l.exports[f] = be
	return be, nil
}

// instantiateHostModule registers the component's host module: one Go
// function per canon lower and resource built-in. Each finds the calling
// Instance in its ctx, so one host module serves every instance.
func (c *Component) instantiateHostModule(ctx context.Context, e *engine) error {
	b := e.wz.NewHostModuleBuilder(c.plan.hostModuleName)
	for k := range c.plan.host {
		h := &c.plan.host[k]
		k := k
		params, results := flatSig(h.sig)
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
				inst := InstanceFromContext(ctx)
				if inst == nil || inst.link == nil || inst.link.comp != c {
					panic(&hostError{err: errors.New("component: host function called outside its component instance")})
				}
				if err := inst.link.serveHost(ctx, k, h, stack); err != nil {
					panic(&hostError{err: err})
				}
			}), params, results).
			Export("f" + fmt.Sprint(k))
	}
	mod, err := b.Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("component: linking: host module: %w", err)
	}
	e.hostMod = mod
	return nil
}

func (l *linked) serveHost(ctx context.Context, k int, h *hostCall, stack []uint64) error {
	switch h.kind {
	case binary.CanonResourceNew:
		idx, err := l.abi.ResourceNew(h.resource, uint32(stack[0]))
		stack[0] = uint64(idx)
		return err
	case binary.CanonResourceRep:
		rep, err := l.abi.ResourceRep(h.resource, uint32(stack[0]))
		stack[0] = uint64(rep)
		return err
	case binary.CanonResourceDrop:
		return l.abi.ResourceDrop(ctx, h.resource, uint32(stack[0]))
	}
	opts := l.bound[k]
	if opts == nil {
		var err error
		if opts, err = l.bindOpts(h.opts); err != nil {
			return err
		}
		l.bound[k] = opts
	}
	callee := h.callee
	var fn func(ctx context.Context, args []any) ([]any, error)
	switch {
	case callee.host != nil:
		fn = callee.host.Fn
	default:
		// A component-to-component call inside this component: lift from
		// the caller, lower into the callee.
		be, err := l.bindExport(callee)
		if err != nil {
			return err
		}
		fn = func(ctx context.Context, args []any) ([]any, error) {
			return be.opts.CallExport(ctx, be.fn, callee.typ, args)
		}
	}
	return opts.ServeImport(ctx, h.typ, stack, fn)
}

// Close ends the instance: its core modules, its handles (host resources are
// closed) and the host state kept for it.
func (i *Instance) Close(ctx context.Context) error {
	i.mu.Lock()
	if i.closing {
		i.mu.Unlock()
		return nil
	}
	i.closing = true
	busy := i.link != nil && i.link.inCall
	i.mu.Unlock()
	var errs []error
	if l := i.link; l != nil {
		errs = append(errs, l.abi.Close(ctx))
		for j := len(l.mods) - 1; j >= 0; j-- {
			if l.mods[j] != nil {
				errs = append(errs, l.mods[j].Close(ctx))
			}
		}
	}
	errs = append(errs, i.closeHostState())
	if l := i.link; l != nil && !busy {
		// The memories go only once no guest code can run on them; a
		// call still running releases them when it returns.
		l.budget.release()
	}
	if l := i.link; l != nil && l.eng != nil {
		l.eng.release()
		l.eng = nil
	}
	return errors.Join(errs...)
}
