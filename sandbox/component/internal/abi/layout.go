package abi

import (
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// The flattening limits of the canonical ABI (CanonicalABI.md, "Flattening").
const (
	MaxFlatParams  = 16
	MaxFlatResults = 1
)

// Context says which side of the boundary a function type is flattened for:
// a lifted function is called by the host (a component export), a lowered one
// is called by the guest (a component import).
type Context uint8

const (
	Lift Context = iota
	Lower
)

// FlatFunc is the core function signature a canonical lift or lower of a
// component function type has.
type FlatFunc struct {
	Params  []api.ValueType
	Results []api.ValueType
	// ParamsInMemory is set when the parameters exceed MaxFlatParams and are
	// passed as one i32 pointer to a tuple in linear memory.
	ParamsInMemory bool
	// ResultsInMemory is set when the results exceed MaxFlatResults: a lifted
	// function returns one i32 pointer to them; a lowered one takes an extra
	// i32 parameter pointing at memory the caller allocated for them.
	ResultsInMemory bool
}

// FlattenFunc returns the core signature of ft in context ctx, following
// flatten_functype in the canonical ABI's definitions.py.
func FlattenFunc(ft *types.Func, ctx Context) FlatFunc {
	var f FlatFunc
	for _, p := range ft.Params {
		f.Params = appendFlat(f.Params, p.Type)
	}
	for _, r := range ft.Results {
		f.Results = appendFlat(f.Results, r.Type)
	}
	if len(f.Params) > MaxFlatParams {
		f.Params = []api.ValueType{api.ValueTypeI32}
		f.ParamsInMemory = true
	}
	if len(f.Results) > MaxFlatResults {
		f.ResultsInMemory = true
		switch ctx {
		case Lift:
			f.Results = []api.ValueType{api.ValueTypeI32}
		case Lower:
			f.Params = append(f.Params, api.ValueTypeI32)
			f.Results = nil
		}
	}
	return f
}

// Flatten returns the core value types t flattens to.
func Flatten(t *types.Type) []api.ValueType { return appendFlat(nil, t) }

func appendFlat(dst []api.ValueType, t *types.Type) []api.ValueType {
	switch t.Kind {
	case types.Bool, types.S8, types.U8, types.S16, types.U16, types.S32, types.U32,
		types.Char, types.Flags, types.Own, types.Borrow, types.Enum:
		return append(dst, api.ValueTypeI32)
	case types.S64, types.U64:
		return append(dst, api.ValueTypeI64)
	case types.F32:
		return append(dst, api.ValueTypeF32)
	case types.F64:
		return append(dst, api.ValueTypeF64)
	case types.String, types.List:
		return append(dst, api.ValueTypeI32, api.ValueTypeI32)
	case types.Record, types.Tuple:
		for _, f := range t.Fields {
			dst = appendFlat(dst, f.Type)
		}
		return dst
	case types.Variant, types.Option, types.Result:
		dst = append(dst, api.ValueTypeI32) // the discriminant
		var joined []api.ValueType
		for _, c := range Cases(t) {
			if c == nil {
				continue
			}
			for i, ft := range Flatten(c) {
				if i < len(joined) {
					joined[i] = join(joined[i], ft)
				} else {
					joined = append(joined, ft)
				}
			}
		}
		return append(dst, joined...)
	}
	panic(fmt.Sprintf("abi: flatten of unknown type kind %v", t.Kind))
}

// join is the canonical ABI's join: the core type that can hold either.
func join(a, b api.ValueType) api.ValueType {
	if a == b {
		return a
	}
	if (a == api.ValueTypeI32 && b == api.ValueTypeF32) || (a == api.ValueTypeF32 && b == api.ValueTypeI32) {
		return api.ValueTypeI32
	}
	return api.ValueTypeI64
}

// Cases returns the payload types of a variant-like type (variant, option,
// result, enum) in case order; a nil entry is a case with no payload.
func Cases(t *types.Type) []*types.Type {
	switch t.Kind {
	case types.Variant:
		out := make([]*types.Type, len(t.Cases))
		for i, c := range t.Cases {
			out[i] = c.Type
		}
		return out
	case types.Option:
		return []*types.Type{nil, t.Elem}
	case types.Result:
		return []*types.Type{t.OK, t.Err}
	case types.Enum:
		return make([]*types.Type, len(t.Labels))
	}
	panic(fmt.Sprintf("abi: %v is not a variant-like type", t.Kind))
}

// discriminantSize is the byte size of a variant's case index in memory.
func discriminantSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

func flagsSize(n int) uint32 {
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	}
	return 4
}

// Align returns t's alignment in linear memory, in bytes.
func Align(t *types.Type) uint32 {
	switch t.Kind {
	case types.Bool, types.S8, types.U8:
		return 1
	case types.S16, types.U16:
		return 2
	case types.S32, types.U32, types.F32, types.Char, types.Own, types.Borrow,
		types.String, types.List:
		return 4
	case types.S64, types.U64, types.F64:
		return 8
	case types.Record, types.Tuple:
		a := uint32(1)
		for _, f := range t.Fields {
			a = max(a, Align(f.Type))
		}
		return a
	case types.Variant, types.Option, types.Result, types.Enum:
		cases := Cases(t)
		a := discriminantSize(len(cases))
		for _, c := range cases {
			if c != nil {
				a = max(a, Align(c))
			}
		}
		return a
	case types.Flags:
		return max(1, flagsSize(len(t.Labels)))
	}
	panic(fmt.Sprintf("abi: align of unknown type kind %v", t.Kind))
}

// Size returns t's size in linear memory, in bytes.
func Size(t *types.Type) uint32 {
	switch t.Kind {
	case types.Bool, types.S8, types.U8:
		return 1
	case types.S16, types.U16:
		return 2
	case types.S32, types.U32, types.F32, types.Char, types.Own, types.Borrow:
		return 4
	case types.S64, types.U64, types.F64:
		return 8
	case types.String, types.List:
		return 8
	case types.Record, types.Tuple:
		var s uint32
		for _, f := range t.Fields {
			s = AlignTo(s, Align(f.Type))
			s += Size(f.Type)
		}
		return AlignTo(s, Align(t))
	case types.Variant, types.Option, types.Result, types.Enum:
		cases := Cases(t)
		s := discriminantSize(len(cases))
		s = AlignTo(s, MaxCaseAlign(cases))
		var cs uint32
		for _, c := range cases {
			if c != nil {
				cs = max(cs, Size(c))
			}
		}
		return AlignTo(s+cs, Align(t))
	case types.Flags:
		return flagsSize(len(t.Labels))
	}
	panic(fmt.Sprintf("abi: size of unknown type kind %v", t.Kind))
}

// MaxCaseAlign is the largest alignment among a variant's payloads (1 when none).
func MaxCaseAlign(cases []*types.Type) uint32 {
	a := uint32(1)
	for _, c := range cases {
		if c != nil {
			a = max(a, Align(c))
		}
	}
	return a
}

// DiscriminantSize is the byte size of the case index of a variant with n cases.
func DiscriminantSize(n int) uint32 { return discriminantSize(n) }

// AlignTo rounds ptr up to a multiple of alignment (a power of two).
func AlignTo(ptr, alignment uint32) uint32 {
	return (ptr + alignment - 1) &^ (alignment - 1)
}
