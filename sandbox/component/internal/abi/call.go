package abi

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// StringEncoding is a canon option's string-encoding.
type StringEncoding uint8

// The string encodings of the canonical ABI; UTF8 is the default.
const (
	UTF8 StringEncoding = iota
	UTF16
	Latin1UTF16
)

// String returns the encoding as the text format spells it.
func (e StringEncoding) String() string {
	switch e {
	case UTF8:
		return "utf8"
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return fmt.Sprintf("string-encoding(%d)", uint8(e))
}

// Options are a canon lift's or canon lower's options bound to a live core
// instance.
type Options struct {
	Memory     api.Memory   // nil when the function needs none
	Realloc    api.Function // cabi_realloc, (i32,i32,i32,i32)->i32; nil when none
	PostReturn api.Function // nil when none
	Encoding   StringEncoding
	Instance   *Instance
	// MaxLiftBytes caps the host memory one call's lifted values may take
	// (an estimate: string bytes plus 16 per list element or record field);
	// exceeding it traps. 0 means DefaultMaxLiftBytes.
	MaxLiftBytes uint64
}

// planKey identifies a function type flattened in one context.
type planKey struct {
	ft  *types.Func
	ctx Context
}

// funcPlan is what every call of a function type needs, computed once.
type funcPlan struct {
	flat FlatFunc
	// numFlatParams is the flat parameter count before any spill.
	numFlatParams int
	// params and results are the tuples spilled to memory.
	params, results *types.Type
}

// maxPlans bounds the plan cache, in case a caller builds a fresh *types.Func
// for every call instead of passing the component's own.
const maxPlans = 4096

func (i *Instance) plan(ft *types.Func, ctx Context) *funcPlan {
	key := planKey{ft, ctx}
	if p := i.plans[key]; p != nil {
		return p
	}
	if len(i.plans) >= maxPlans {
		clear(i.plans)
	}
	p := &funcPlan{flat: FlattenFunc(ft, ctx)}
	params := make([]*types.Type, len(ft.Params))
	for n, prm := range ft.Params {
		params[n] = prm.Type
		p.numFlatParams += flatCount(prm.Type)
	}
	results := make([]*types.Type, len(ft.Results))
	for n, r := range ft.Results {
		results[n] = r.Type
	}
	p.params, p.results = types.TupleOf(params...), types.TupleOf(results...)
	i.plans[key] = p
	return p
}

func (o *Options) newLifter(scope *callScope) *lifter {
	limit := o.MaxLiftBytes
	if limit == 0 {
		limit = DefaultMaxLiftBytes
	}
	l := &lifter{inst: o.Instance, enc: o.Encoding, scope: scope, budget: limit, limit: limit}
	if o.Memory != nil {
		l.mem, _ = o.Memory.Read(0, o.Memory.Size())
		l.hasMem = true
	}
	return l
}

func (o *Options) newLowerer(ctx context.Context, scope *callScope) *lowerer {
	l := &lowerer{ctx: ctx, opts: o, inst: o.Instance, scope: scope}
	l.refresh()
	return l
}

// CallExport calls fn, the core function behind a lifted export of type ft
// (canon lift), with args: it lowers args into core values (flattened, or
// stored in memory allocated with realloc when there are more than
// MaxFlatParams), calls fn, lifts its results (from memory when more than
// MaxFlatResults) and then calls post-return. Borrowed handles passed in are
// scoped to this call: the guest must drop them before it returns.
//
// A guest failure is a *Trap (possibly wrapped); the instance's flags and
// borrow handles are restored either way, so the next call can run.
func (o *Options) CallExport(ctx context.Context, fn api.Function, ft *types.Func, args []any) ([]any, error) {
	inst := o.Instance
	if inst == nil {
		return nil, fmt.Errorf("canonical options for %s have no Instance", ft)
	}
	if len(args) != len(ft.Params) {
		return nil, fmt.Errorf("calling %s with %d arguments", ft, len(args))
	}
	if !inst.mayEnter {
		return nil, trapf("the component instance was re-entered: a call into it is already running (from one of its imports)")
	}
	inst.mayEnter = false
	scope := &callScope{}
	defer func() {
		inst.endExportScope(scope)
		inst.mayEnter = true
	}()
	p := inst.plan(ft, Lift)

	lw := o.newLowerer(ctx, scope)
	var flatArgs []uint64
	if p.flat.ParamsInMemory {
		ptr, err := lw.allocate(Align(p.params), Size(p.params))
		if err != nil {
			return nil, fmt.Errorf("allocating the arguments: %w", err)
		}
		if err := lw.store(args, p.params, ptr); err != nil {
			return nil, fmt.Errorf("lowering the arguments: %w", err)
		}
		flatArgs = []uint64{uint64(ptr)}
	} else {
		flatArgs = make([]uint64, 0, p.numFlatParams)
		for n, a := range args {
			var err error
			if flatArgs, err = lw.lowerFlat(flatArgs, a, ft.Params[n].Type); err != nil {
				return nil, fmt.Errorf("lowering argument %q: %w", ft.Params[n].Name, err)
			}
		}
	}

	stack := make([]uint64, max(len(flatArgs), len(p.flat.Results)))
	copy(stack, flatArgs)
	if err := fn.CallWithStack(ctx, stack); err != nil {
		return nil, &Trap{Message: "the guest trapped", Cause: err}
	}
	flatResults := stack[:len(p.flat.Results)]

	results, err := o.liftResults(p, ft, flatResults)
	if err != nil {
		return nil, err
	}
	if scope.numBorrows > 0 {
		return nil, trapf("the guest returned while still holding %d borrowed handle(s) passed to it; it must drop them before returning", scope.numBorrows)
	}
	if o.PostReturn != nil {
		inst.mayLeave = false
		err := o.PostReturn.CallWithStack(ctx, flatResults)
		inst.mayLeave = true
		if err != nil {
			return nil, &Trap{Message: "post-return trapped", Cause: err}
		}
	}
	return results, nil
}

func (o *Options) liftResults(p *funcPlan, ft *types.Func, flat []uint64) ([]any, error) {
	lf := o.newLifter(nil)
	if p.flat.ResultsInMemory {
		if err := lf.needMem(); err != nil {
			return nil, err
		}
		ptr := uint32(flat[0])
		if err := checkRange("results", ptr, uint64(Size(p.results)), Align(p.results), len(lf.mem)); err != nil {
			return nil, fmt.Errorf("lifting the results: %w", err)
		}
		v, err := lf.load(ptr, p.results)
		if err != nil {
			return nil, fmt.Errorf("lifting the results: %w", err)
		}
		return v.([]any), nil
	}
	r := &flatReader{vals: flat}
	results := make([]any, len(ft.Results))
	for n, res := range ft.Results {
		v, err := lf.liftFlat(r, res.Type)
		if err != nil {
			return nil, fmt.Errorf("lifting result %d: %w", n, err)
		}
		results[n] = v
	}
	return results, nil
}

// ServeImport is the body of a lowered import's core function (canon lower)
// of type ft: it lifts the guest's arguments from stack (wazero's
// GoModuleFunction stack, holding the core parameters), calls host, and
// lowers host's results into stack or into the return area the guest passed.
// It traps when may_leave is false: an import called from realloc or
// post-return. Handles the guest lends as borrow arguments stay lent (and
// cannot be dropped) until host returns.
func (o *Options) ServeImport(ctx context.Context, ft *types.Func, stack []uint64, host func(ctx context.Context, args []any) ([]any, error)) error {
	inst := o.Instance
	if inst == nil {
		return fmt.Errorf("canonical options for %s have no Instance", ft)
	}
	if !inst.mayLeave {
		return trapf("an import was called from cabi_realloc, post-return or a destructor, which may not call out of the component")
	}
	p := inst.plan(ft, Lower)
	if len(stack) < max(len(p.flat.Params), len(p.flat.Results)) {
		return fmt.Errorf("stack of %d values is too small for %s", len(stack), ft)
	}
	scope := &callScope{}
	defer endImportScope(scope)

	lf := o.newLifter(scope)
	var args []any
	if p.flat.ParamsInMemory {
		if err := lf.needMem(); err != nil {
			return err
		}
		ptr := uint32(stack[0])
		if err := checkRange("arguments", ptr, uint64(Size(p.params)), Align(p.params), len(lf.mem)); err != nil {
			return fmt.Errorf("lifting the arguments: %w", err)
		}
		v, err := lf.load(ptr, p.params)
		if err != nil {
			return fmt.Errorf("lifting the arguments: %w", err)
		}
		args = v.([]any)
	} else {
		r := &flatReader{vals: stack[:p.numFlatParams]}
		args = make([]any, len(ft.Params))
		for n, prm := range ft.Params {
			v, err := lf.liftFlat(r, prm.Type)
			if err != nil {
				return fmt.Errorf("lifting argument %q: %w", prm.Name, err)
			}
			args[n] = v
		}
	}

	results, err := host(ctx, args)
	if err != nil {
		return fmt.Errorf("host function failed: %w", err)
	}
	if len(results) != len(ft.Results) {
		return fmt.Errorf("host function of type %s returned %d results", ft, len(results))
	}

	lw := o.newLowerer(ctx, nil)
	if p.flat.ResultsInMemory {
		if lw.opts.Memory == nil {
			return fmt.Errorf("this function returns values in linear memory but its canonical options name no memory")
		}
		out := uint32(stack[len(p.flat.Params)-1])
		if err := checkRange("return area", out, uint64(Size(p.results)), Align(p.results), len(lw.mem)); err != nil {
			return fmt.Errorf("lowering the results: %w", err)
		}
		if err := lw.store(results, p.results, out); err != nil {
			return fmt.Errorf("lowering the results: %w", err)
		}
		return nil
	}
	flat := stack[:0]
	for n, res := range ft.Results {
		if flat, err = lw.lowerFlat(flat, results[n], res.Type); err != nil {
			return fmt.Errorf("lowering result %d: %w", n, err)
		}
	}
	return nil
}
