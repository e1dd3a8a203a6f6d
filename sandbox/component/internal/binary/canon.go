package binary

import (
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/internal/abi"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// canonBuiltinNames names the canonical built-ins out of scope, for errors.
var canonBuiltinNames = map[byte]string{
	0x05: "task.cancel", 0x06: "subtask.cancel", 0x07: "resource.drop async", 0x08: "backpressure.set",
	0x09: "task.return", 0x0a: "context.get", 0x0b: "context.set", 0x0c: "thread.yield",
	0x0d: "subtask.drop", 0x0e: "stream.new", 0x0f: "stream.read", 0x10: "stream.write",
	0x11: "stream.cancel-read", 0x12: "stream.cancel-write", 0x13: "stream.drop-readable",
	0x14: "stream.drop-writable", 0x15: "future.new", 0x16: "future.read", 0x17: "future.write",
	0x18: "future.cancel-read", 0x19: "future.cancel-write", 0x1a: "future.drop-readable",
	0x1b: "future.drop-writable", 0x1c: "error-context.new", 0x1d: "error-context.debug-message",
	0x1e: "error-context.drop", 0x1f: "waitable-set.new", 0x20: "waitable-set.wait",
	0x21: "waitable-set.poll", 0x22: "waitable-set.drop", 0x23: "waitable.join",
	0x24: "backpressure.inc", 0x25: "backpressure.dec", 0x26: "thread.index",
	0x27: "thread.new-indirect", 0x28: "thread.resume-later", 0x29: "thread.suspend",
	0x2a: "thread.suspend-then-resume", 0x2b: "thread.yield-then-resume",
	0x2c: "thread.suspend-then-promote", 0x2d: "thread.yield-then-promote",
	0x40: "thread.spawn-ref", 0x41: "thread.spawn-indirect", 0x42: "thread.available-parallelism",
}

// Core signatures fixed by the canonical ABI. They are never modified.
var (
	i32Func     = FuncType{Params: []api.ValueType{i32}}
	i32ToI32    = FuncType{Params: []api.ValueType{i32}, Results: []api.ValueType{i32}}
	reallocType = FuncType{Params: []api.ValueType{i32, i32, i32, i32}, Results: []api.ValueType{i32}}
)

// canon reads a canonical definition.
func (d *decoder) canon(r *reader, s *scope) *Canon {
	def := &Canon{Offset: r.offset()}
	op := r.byte()
	switch op {
	case 0x00, 0x01:
		sortOff := r.offset()
		if sort := r.byte(); sort != 0x00 {
			bail(sortOff, "malformed canon %s: expected 0x00 (the func sort), found %#x", map[byte]string{0: "lift", 1: "lower"}[op], sort)
		}
		idxOff := r.offset()
		idx := r.u32()
		if op == 0x00 {
			def.Kind, def.CoreFunc = CanonLift, idx
			def.CoreType = s.coreFunc(idxOff, idx)
		} else {
			def.Kind, def.Func = CanonLower, idx
			def.Type = s.funcAt(idxOff, idx)
		}
		def.Options = d.canonOptions(r, s, def.Kind)
		if op == 0x00 {
			tOff := r.offset()
			tidx := r.u32()
			et := s.typeAt(tOff, tidx)
			if et.Kind != KindFunc {
				bail(tOff, "canon lift: type %d is %s, not a function type", tidx, article(describeType(et)))
			}
			def.Type = et.Func
		}
		d.checkCanonABI(def, s)
		if def.Kind == CanonLift {
			def.Index = s.add(ExternType{Kind: KindFunc, Func: def.Type})
		} else {
			def.Index = s.addCore(CoreExtern{Kind: CoreFunc, Func: def.CoreType})
		}
	case 0x02, 0x03, 0x04:
		def.Kind = map[byte]CanonKind{0x02: CanonResourceNew, 0x03: CanonResourceDrop, 0x04: CanonResourceRep}[op]
		idxOff := r.offset()
		idx := r.u32()
		et := s.typeAt(idxOff, idx)
		if et.Kind != KindType || et.Resource == nil {
			bail(idxOff, "%s: type %d is %s, not a resource type", def.Kind, idx, article(describeType(et)))
		}
		def.Resource = et.Resource
		if def.Kind != CanonResourceDrop && !s.defined[def.Resource] {
			bail(idxOff, "%s: resource type %d (%q) is not defined by this component; only its definer may create handles or read representations",
				def.Kind, idx, def.Resource.Name)
		}
		switch def.Kind {
		case CanonResourceNew, CanonResourceRep:
			def.CoreType = i32ToI32
		case CanonResourceDrop:
			def.CoreType = i32Func
		}
		def.Index = s.addCore(CoreExtern{Kind: CoreFunc, Func: def.CoreType})
	default:
		if name, ok := canonBuiltinNames[op]; ok {
			bailUnsupported(def.Offset, "canonical built-in %s (%#x)", name, op)
		}
		bail(def.Offset, "malformed canonical definition %#x", op)
	}
	return def
}

// canonOptions reads and checks canonical options (CanonicalABI.md,
// "canonopt Validation").
func (d *decoder) canonOptions(r *reader, s *scope, kind CanonKind) CanonOptions {
	var o CanonOptions
	var seenEncoding bool
	n := r.count("canonical option", 1)
	for range n {
		off := r.offset()
		switch b := r.byte(); b {
		case 0x00, 0x01, 0x02:
			if seenEncoding {
				bail(off, "%s: string-encoding given more than once", kind)
			}
			seenEncoding = true
			o.StringEncoding = StringEncoding(b)
		case 0x03:
			if o.HasMemory {
				bail(off, "%s: memory option given more than once", kind)
			}
			idxOff := r.offset()
			o.Memory, o.HasMemory = r.u32(), true
			s.coreMemory(idxOff, o.Memory)
		case 0x04:
			if o.HasRealloc {
				bail(off, "%s: realloc option given more than once", kind)
			}
			idxOff := r.offset()
			o.Realloc, o.HasRealloc = r.u32(), true
			if ft := s.coreFunc(idxOff, o.Realloc); !ft.Equal(reallocType) {
				bail(idxOff, "%s: realloc core func %d has type %s; it must be %s", kind, o.Realloc, ft, reallocType)
			}
		case 0x05:
			if o.HasPostReturn {
				bail(off, "%s: post-return option given more than once", kind)
			}
			if kind != CanonLift {
				bail(off, "%s: post-return is only allowed on canon lift", kind)
			}
			idxOff := r.offset()
			o.PostReturn, o.HasPostReturn = r.u32(), true
			s.coreFunc(idxOff, o.PostReturn)
		case 0x06:
			bailUnsupported(off, "%s: async option (the async ABI)", kind)
		case 0x07:
			bailUnsupported(off, "%s: callback option (the async ABI)", kind)
		default:
			bail(off, "%s: malformed canonical option %#x", kind, b)
		}
	}
	if o.HasRealloc && !o.HasMemory {
		bail(r.offset(), "%s: realloc option requires a memory option", kind)
	}
	return o
}

// checkCanonABI checks a lift's or lower's core function type against the
// flattening of its component function type, and the options the type needs.
func (d *decoder) checkCanonABI(def *Canon, s *scope) {
	ft := def.Type
	var paramFlat, resultFlat uint64
	var paramsHaveString, resultsHaveString bool
	for _, p := range ft.Params {
		f := d.facts(p.Type)
		paramFlat = min(paramFlat+f.flat, maxFlatCount)
		paramsHaveString = paramsHaveString || f.hasString
	}
	for _, p := range ft.Results {
		f := d.facts(p.Type)
		resultFlat = min(resultFlat+f.flat, maxFlatCount)
		resultsHaveString = resultsHaveString || f.hasString
	}
	paramsSpill := paramFlat > abi.MaxFlatParams
	resultsSpill := resultFlat > abi.MaxFlatResults

	o := def.Options
	need := func(has bool, opt, why string) {
		if !has {
			bail(def.Offset, "%s of %s: the %s option is required because %s", def.Kind, funcText(ft), opt, why)
		}
	}
	switch def.Kind {
	case CanonLift:
		if paramsHaveString {
			need(o.HasMemory, "memory", "a parameter contains a string or list")
			need(o.HasRealloc, "realloc", "a parameter contains a string or list")
		}
		if paramsSpill {
			need(o.HasRealloc, "realloc", fmt.Sprintf("the parameters flatten to more than %d values", abi.MaxFlatParams))
		}
		if resultsHaveString {
			need(o.HasMemory, "memory", "the result contains a string or list")
		}
		if resultsSpill {
			need(o.HasMemory, "memory", fmt.Sprintf("the results flatten to more than %d value", abi.MaxFlatResults))
		}
	case CanonLower:
		if paramsHaveString {
			need(o.HasMemory, "memory", "a parameter contains a string or list")
		}
		if paramsSpill {
			need(o.HasMemory, "memory", fmt.Sprintf("the parameters flatten to more than %d values", abi.MaxFlatParams))
		}
		if resultsHaveString {
			need(o.HasMemory, "memory", "the result contains a string or list")
			need(o.HasRealloc, "realloc", "the result contains a string or list")
		}
		if resultsSpill {
			need(o.HasMemory, "memory", fmt.Sprintf("the results flatten to more than %d value", abi.MaxFlatResults))
		}
	}

	want := d.flatten(ft, def.Kind, paramsSpill, resultsSpill)
	switch def.Kind {
	case CanonLift:
		if !def.CoreType.Equal(want) {
			bail(def.Offset, "canon lift of core func %d: its type is %s, but lifting %s needs %s", def.CoreFunc, def.CoreType, funcText(ft), want)
		}
		if o.HasPostReturn {
			got := s.coreFuncs[o.PostReturn]
			pr := FuncType{Params: want.Results}
			if !got.Equal(pr) {
				bail(def.Offset, "canon lift: post-return core func %d has type %s; it must be %s", o.PostReturn, got, pr)
			}
		}
	case CanonLower:
		def.CoreType = want
	}
}

// flatten returns abi.FlattenFunc of ft. Values that spill to memory are
// replaced by a stand-in of the same flattened shape first, so a type that
// flattens to millions of values is never flattened.
func (d *decoder) flatten(ft *types.Func, kind CanonKind, paramsSpill, resultsSpill bool) FuncType {
	stand := *ft
	if paramsSpill {
		stand.Params = make([]types.Param, abi.MaxFlatParams+1)
		for i := range stand.Params {
			stand.Params[i] = types.Param{Name: "p", Type: types.U32Type}
		}
	}
	if resultsSpill {
		stand.Results = []types.Param{{Type: types.TupleOf(types.U32Type, types.U32Type)}}
	}
	ctx := abi.Lift
	if kind == CanonLower {
		ctx = abi.Lower
	}
	flat := abi.FlattenFunc(&stand, ctx)
	return FuncType{Params: flat.Params, Results: flat.Results}
}
