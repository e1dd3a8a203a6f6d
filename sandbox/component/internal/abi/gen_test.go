package abi

import (
	"fmt"
	"math"
	"math/rand/v2"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// choices is where the type and value generators get their decisions from: a
// seeded PRNG for property tests, the fuzzer's bytes for FuzzLift.
type choices interface {
	intn(n int) int
}

type randChoices struct{ r *rand.Rand }

func (c randChoices) intn(n int) int { return c.r.IntN(n) }

// byteChoices reads decisions from a byte string; once it runs out, every
// decision is 0, which always leads to a small type.
type byteChoices struct {
	b []byte
}

func (c *byteChoices) intn(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

// Two resource types for generated handles: one the host implements, one the
// guest does (registered with SetDestructor by the tests that need it).
var (
	testHostResource  = &types.Resource{Name: "host-thing", Interface: "test:abi/things"}
	testGuestResource = &types.Resource{Name: "guest-thing"}
)

// genType returns a valid WASI 0.2 value type of nesting depth at most depth.
// withBorrow says whether borrow<…> may appear (never in results).
func genType(c choices, depth int, withBorrow bool) *types.Type {
	prims := []*types.Type{types.BoolType, types.S8Type, types.U8Type, types.S16Type, types.U16Type,
		types.S32Type, types.U32Type, types.S64Type, types.U64Type, types.F32Type, types.F64Type,
		types.CharType, types.StringType}
	if depth <= 0 {
		return prims[c.intn(len(prims))]
	}
	switch c.intn(12) {
	case 0:
		return types.ListOf(genType(c, depth-1, withBorrow))
	case 1:
		return types.RecordOf(genFields(c, depth, withBorrow, true)...)
	case 2:
		fs := genFields(c, depth, withBorrow, false)
		return &types.Type{Kind: types.Tuple, Fields: fs}
	case 3:
		n := 1 + c.intn(4)
		if c.intn(8) == 0 {
			n = 257 + c.intn(10) // a two-byte discriminant
		}
		cases := make([]types.Case, n)
		for i := range cases {
			cases[i].Name = fmt.Sprintf("c%d", i)
			if i < 4 && c.intn(3) != 0 {
				cases[i].Type = genType(c, depth-1, withBorrow)
			}
		}
		return types.VariantOf(cases...)
	case 4:
		return types.EnumOf(labels(1 + c.intn(300))...)
	case 5:
		return types.OptionOf(genType(c, depth-1, withBorrow))
	case 6:
		var ok, err *types.Type
		if c.intn(3) != 0 {
			ok = genType(c, depth-1, withBorrow)
		}
		if c.intn(3) != 0 {
			err = genType(c, depth-1, withBorrow)
		}
		return types.ResultOf(ok, err)
	case 7:
		return types.FlagsOf(labels(1 + c.intn(32))...)
	case 8:
		if c.intn(2) == 0 {
			return types.OwnOf(testHostResource)
		}
		return types.OwnOf(testGuestResource)
	case 9:
		if withBorrow {
			return types.BorrowOf(testHostResource)
		}
	}
	return prims[c.intn(len(prims))]
}

func genFields(c choices, depth int, withBorrow, named bool) []types.Field {
	fs := make([]types.Field, 1+c.intn(4))
	for i := range fs {
		if named {
			fs[i].Name = fmt.Sprintf("f%d", i)
		}
		fs[i].Type = genType(c, depth-1, withBorrow)
	}
	return fs
}

func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("l%d", i)
	}
	return out
}

// hostObject is the Go object behind a generated host resource handle.
type hostObject struct {
	id     int
	closed int
}

func (o *hostObject) Close() error {
	o.closed++
	return nil
}

var testStrings = []string{"", "a", "hello, world", "ÿé latin", "日本語", "mixed é and ☃", "emoji 🎉 astral", "\x00nul", "ü"}

// genValue returns a random value of type t in the types package's Go
// representation. Guest-resource handles use reps, host ones Go objects.
func genValue(r *rand.Rand, t *types.Type) any {
	switch t.Kind {
	case types.Bool:
		return r.IntN(2) == 1
	case types.S8:
		return int8(r.Uint32())
	case types.U8:
		return uint8(r.Uint32())
	case types.S16:
		return int16(r.Uint32())
	case types.U16:
		return uint16(r.Uint32())
	case types.S32:
		return int32(r.Uint32())
	case types.U32:
		return r.Uint32()
	case types.S64:
		return int64(r.Uint64())
	case types.U64:
		return r.Uint64()
	case types.F32:
		switch r.IntN(6) {
		case 0:
			return math.Float32frombits(0x7f800000 | 1 + r.Uint32()%0x7fffff) // a non-canonical NaN
		case 1:
			return float32(math.Inf(-1))
		}
		return math.Float32frombits(r.Uint32() & 0xbf7fffff) // finite
	case types.F64:
		switch r.IntN(6) {
		case 0:
			return math.Float64frombits(0xfff0000000000001 + r.Uint64()%0xfffffffffffff)
		case 1:
			return math.Copysign(0, -1)
		}
		return math.Float64frombits(r.Uint64() & 0xbfefffffffffffff)
	case types.Char:
		for {
			c := rune(r.IntN(0x110000))
			if r.IntN(2) == 0 {
				c = rune(r.IntN(0x300))
			}
			if c < 0xD800 || c > 0xDFFF {
				return c
			}
		}
	case types.String:
		return testStrings[r.IntN(len(testStrings))]
	case types.List:
		out := make([]any, r.IntN(4))
		for i := range out {
			out[i] = genValue(r, t.Elem)
		}
		return out
	case types.Record, types.Tuple:
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			out[i] = genValue(r, f.Type)
		}
		return out
	case types.Variant, types.Option, types.Result, types.Enum:
		cases := Cases(t)
		i := r.IntN(len(cases))
		v := types.VariantValue{Case: uint32(i)}
		if cases[i] != nil {
			v.Value = genValue(r, cases[i])
		}
		return v
	case types.Flags:
		return r.Uint32() & flagsMask(len(t.Labels))
	case types.Own, types.Borrow:
		if t.Resource == testGuestResource {
			return types.Handle{Resource: t.Resource, Rep: r.Uint32()}
		}
		return types.Handle{Resource: t.Resource, Host: &hostObject{id: r.Int()}}
	}
	panic("genValue: unknown kind " + t.Kind.String())
}

// canonical returns v as a lift must give it back: every NaN canonical.
func canonical(v any) any {
	switch x := v.(type) {
	case float32:
		return decodeF32(math.Float32bits(x))
	case float64:
		return decodeF64(math.Float64bits(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case types.VariantValue:
		x.Value = canonical(x.Value)
		return x
	}
	return v
}

// sameValue compares two values bit-for-bit (so NaNs compare by their bits
// and -0 differs from +0), recursing into lists, records and variants.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case types.VariantValue:
		y, ok := b.(types.VariantValue)
		return ok && x.Case == y.Case && sameValue(x.Value, y.Value)
	}
	return a == b
}
