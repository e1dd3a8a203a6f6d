package abi

import (
	"context"
	_ "embed"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// guestWasm is testdata/guest.wat assembled; see the .wat for how to regenerate.
//
//go:embed testdata/guest.wasm
var guestWasm []byte

// guest is one instance of the test guest module with its canonical-ABI
// state. Its imports run through ServeImport with the function types and Go
// implementations a test puts in importTypes and impls.
type guest struct {
	t    testing.TB
	ctx  context.Context
	mod  api.Module
	inst *Instance
	opts *Options
	// importTypes and impls define what the guest's "host" imports are; the
	// resource built-ins are wired to inst directly.
	importTypes map[string]*types.Func
	impls       map[string]func(ctx context.Context, args []any) ([]any, error)
	// lastImportStack holds the flat arguments of the most recent import call.
	lastImportStack []uint64
}

var hostImports = []struct {
	name            string
	params, results []api.ValueType
}{
	{"ping", nil, nil},
	{"echo", i32s(2), nil},
	{"get1", nil, i32s(1)},
	{"get2", i32s(1), nil},
	{"sum16", i32s(16), i32s(1)},
	{"sum17", i32s(1), i32s(1)},
	{"lend", i32s(1), nil},
}

func i32s(n int) []api.ValueType {
	out := make([]api.ValueType, n)
	for i := range out {
		out[i] = api.ValueTypeI32
	}
	return out
}

func newGuest(t testing.TB) *guest {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	g := &guest{
		t: t, ctx: ctx, inst: NewInstance(),
		importTypes: map[string]*types.Func{"ping": {}},
		impls: map[string]func(context.Context, []any) ([]any, error){
			"ping": func(context.Context, []any) ([]any, error) { return nil, nil },
		},
	}
	b := rt.NewHostModuleBuilder("host")
	for _, imp := range hostImports {
		name := imp.name
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			g.lastImportStack = append([]uint64(nil), stack...)
			ft, impl := g.importTypes[name], g.impls[name]
			if ft == nil || impl == nil {
				panic("test guest imported " + name + ", which this test does not define")
			}
			if err := g.opts.ServeImport(ctx, ft, stack, impl); err != nil {
				panic(err)
			}
		}), imp.params, imp.results).Export(name)
	}
	builtin := func(name string, params, results []api.ValueType, f func(ctx context.Context, stack []uint64) error) {
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			if err := f(ctx, stack); err != nil {
				panic(err)
			}
		}), params, results).Export(name)
	}
	builtin("resource_new", i32s(1), i32s(1), func(_ context.Context, stack []uint64) error {
		h, err := g.inst.ResourceNew(testGuestResource, uint32(stack[0]))
		stack[0] = uint64(h)
		return err
	})
	builtin("resource_rep", i32s(1), i32s(1), func(_ context.Context, stack []uint64) error {
		rep, err := g.inst.ResourceRep(testGuestResource, uint32(stack[0]))
		stack[0] = uint64(rep)
		return err
	})
	builtin("resource_drop", i32s(1), nil, func(ctx context.Context, stack []uint64) error {
		return g.inst.ResourceDrop(ctx, testGuestResource, uint32(stack[0]))
	})
	builtin("host_drop", i32s(1), nil, func(ctx context.Context, stack []uint64) error {
		return g.inst.ResourceDrop(ctx, testHostResource, uint32(stack[0]))
	})
	if _, err := b.Instantiate(ctx); err != nil {
		t.Fatalf("instantiating host module: %v", err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, guestWasm, wazero.NewModuleConfig().WithName("guest"))
	if err != nil {
		t.Fatalf("instantiating testdata/guest.wasm: %v", err)
	}
	g.mod = mod
	g.opts = &Options{Memory: mod.Memory(), Realloc: mod.ExportedFunction("cabi_realloc"), Instance: g.inst}
	return g
}

// fn returns the guest's export name, failing the test when it is missing.
func (g *guest) fn(name string) api.Function {
	g.t.Helper()
	f := g.mod.ExportedFunction(name)
	if f == nil {
		g.t.Fatalf("testdata/guest.wasm exports no %q", name)
	}
	return f
}

func (g *guest) setMode(mode uint32) {
	g.t.Helper()
	if _, err := g.fn("set_mode").Call(g.ctx, uint64(mode)); err != nil {
		g.t.Fatalf("set_mode(%d): %v", mode, err)
	}
}

// call is CallExport of the guest's export name with type ft.
func (g *guest) call(name string, ft *types.Func, args ...any) ([]any, error) {
	return g.opts.CallExport(g.ctx, g.fn(name), ft, args)
}

// write puts b into guest memory at ptr.
func (g *guest) write(ptr uint32, b []byte) {
	g.t.Helper()
	if !g.mod.Memory().Write(ptr, b) {
		g.t.Fatalf("writing %d bytes at %#x: out of range", len(b), ptr)
	}
}

// liveHandles counts the entries in the handle table.
func (i *Instance) liveHandles() int {
	n := 0
	for _, e := range i.table.entries {
		if e != nil {
			n++
		}
	}
	return n
}

func params(ts ...*types.Type) []types.Param {
	out := make([]types.Param, len(ts))
	for i, t := range ts {
		out[i] = types.Param{Name: string(rune('a' + i%26)), Type: t}
	}
	return out
}

// fn1 is func(a: in) -> out (no result when out is nil).
func fn1(in, out *types.Type) *types.Func {
	f := &types.Func{Params: params(in)}
	if out != nil {
		f.Results = []types.Param{{Type: out}}
	}
	return f
}
