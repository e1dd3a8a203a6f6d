package jsonbridge

import (
	"math"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// byteSource drives the type generator: random bytes in the round-trip tests,
// the fuzzer's bytes in FuzzDecode (zeros once they run out, so every input
// makes a finite type).
type byteSource interface {
	next() byte
}

type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) next() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

type randBytes struct{ r *rand.Rand }

func (r randBytes) next() byte { return byte(r.r.UintN(256)) }

var primitiveTypes = []*types.Type{
	types.BoolType, types.S8Type, types.U8Type, types.S16Type, types.U16Type,
	types.S32Type, types.U32Type, types.S64Type, types.U64Type,
	types.F32Type, types.F64Type, types.CharType, types.StringType,
}

// genNames are member names for generated records, variants, enums and flags.
var genNames = []string{"alpha", "b", "gamma-ray", "d4", "epsilon", "f"}

// genType builds a type of at most maxDepth levels from src.
func genType(src byteSource, maxDepth int) *types.Type {
	c := int(src.next())
	if maxDepth <= 0 {
		return primitiveTypes[c%len(primitiveTypes)]
	}
	// Composite kinds count twice, so that most types have some structure.
	const composite = 9
	k := c % (len(primitiveTypes) + 2*composite)
	if k < len(primitiveTypes) {
		return primitiveTypes[k]
	}
	k = len(primitiveTypes) + (k-len(primitiveTypes))/2
	count := func(lo int) int { return lo + int(src.next())%(len(genNames)-lo+1) }
	sub := func() *types.Type { return genType(src, maxDepth-1) }
	switch k - len(primitiveTypes) {
	case 0:
		return types.ListOf(sub())
	case 1:
		n := count(1)
		fields := make([]types.Field, n)
		for i := range fields {
			fields[i] = types.Field{Name: genNames[i], Type: sub()}
		}
		t := types.RecordOf(fields...)
		if src.next()%2 == 0 {
			t.Name = "rec"
		}
		return t
	case 2:
		elems := make([]*types.Type, count(1))
		for i := range elems {
			elems[i] = sub()
		}
		return types.TupleOf(elems...)
	case 3:
		cases := make([]types.Case, count(1))
		for i := range cases {
			cases[i].Name = genNames[i]
			if src.next()%3 != 0 {
				cases[i].Type = sub()
			}
		}
		return types.VariantOf(cases...)
	case 4:
		return types.EnumOf(genNames[:count(1)]...)
	case 5:
		return types.OptionOf(sub())
	case 6:
		var ok, err *types.Type
		if src.next()%3 != 0 {
			ok = sub()
		}
		if src.next()%3 != 0 {
			err = sub()
		}
		return types.ResultOf(ok, err)
	case 7:
		return types.FlagsOf(genNames[:count(0)]...)
	default:
		return types.ListOf(types.U8Type)
	}
}

// interestingStrings exercise escaping and Unicode in strings and chars.
var interestingStrings = []string{
	"", "plain", `quote " and \ backslash`, "line\nbreak\ttab\r", "\x00\x01\x1f",
	"<html> & 'entities'", "ünïcödé", "日本語", "emoji 😀", "\u2028\u2029", "\uFFFD",
}

// genValue returns a random value of type t, leaning on edge cases.
func genValue(t *types.Type, r *rand.Rand) any {
	pick := func(n int) bool { return r.IntN(n) == 0 }
	switch t.Kind {
	case types.Bool:
		return pick(2)
	case types.S8:
		return int8(edgeInt(r, math.MinInt8, math.MaxInt8))
	case types.S16:
		return int16(edgeInt(r, math.MinInt16, math.MaxInt16))
	case types.S32:
		return int32(edgeInt(r, math.MinInt32, math.MaxInt32))
	case types.S64:
		return edgeInt(r, math.MinInt64, math.MaxInt64)
	case types.U8:
		return uint8(edgeUint(r, math.MaxUint8))
	case types.U16:
		return uint16(edgeUint(r, math.MaxUint16))
	case types.U32:
		return uint32(edgeUint(r, math.MaxUint32))
	case types.U64:
		return edgeUint(r, math.MaxUint64)
	case types.F32:
		return float32(edgeFloat(r, 32))
	case types.F64:
		return edgeFloat(r, 64)
	case types.Char:
		for {
			c := []rune{'a', '"', '\\', '\n', 0, 'é', '日', '😀', 0x10FFFF, 0xFFFD}[r.IntN(10)]
			if pick(2) {
				c = rune(r.IntN(0x110000))
			}
			if utf8.ValidRune(c) {
				return c
			}
		}
	case types.String:
		s := interestingStrings[r.IntN(len(interestingStrings))]
		if pick(3) {
			s += strings.Repeat("x", r.IntN(50))
		}
		return s
	case types.List:
		out := make([]any, r.IntN(4))
		for i := range out {
			out[i] = genValue(t.Elem, r)
		}
		return out
	case types.Record, types.Tuple:
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			out[i] = genValue(f.Type, r)
		}
		return out
	case types.Variant:
		i := r.IntN(len(t.Cases))
		v := types.VariantValue{Case: uint32(i)}
		if t.Cases[i].Type != nil {
			v.Value = genValue(t.Cases[i].Type, r)
		}
		return v
	case types.Enum:
		return types.VariantValue{Case: uint32(r.IntN(len(t.Labels)))}
	case types.Option:
		if pick(3) {
			return types.VariantValue{Case: 0}
		}
		return types.VariantValue{Case: 1, Value: genValue(t.Elem, r)}
	case types.Result:
		c := uint32(r.IntN(2))
		side := t.OK
		if c == 1 {
			side = t.Err
		}
		v := types.VariantValue{Case: c}
		if side != nil {
			v.Value = genValue(side, r)
		}
		return v
	case types.Flags:
		if len(t.Labels) == 0 {
			return uint32(0)
		}
		return uint32(r.Uint64N(1 << len(t.Labels)))
	}
	panic("genValue: no values of " + t.String())
}

func edgeInt(r *rand.Rand, lo, hi int64) int64 {
	switch r.IntN(5) {
	case 0:
		return lo
	case 1:
		return hi
	case 2:
		return 0
	}
	return lo + int64(r.Uint64N(uint64(hi-lo)))
}

func edgeUint(r *rand.Rand, hi uint64) uint64 {
	switch r.IntN(4) {
	case 0:
		return hi
	case 1:
		return 0
	}
	if hi == math.MaxUint64 {
		return r.Uint64()
	}
	return r.Uint64N(hi + 1)
}

func edgeFloat(r *rand.Rand, bits int) float64 {
	edges := []float64{0, math.Copysign(0, -1), 1, -1.5, math.NaN(), math.Inf(1), math.Inf(-1),
		math.SmallestNonzeroFloat64, math.MaxFloat64, 1e21, 1e-7, 0.1}
	if bits == 32 {
		edges = append(edges[:7], math.SmallestNonzeroFloat32, math.MaxFloat32, 1e21, 1e-7, 0.1)
	}
	if r.IntN(2) == 0 {
		return edges[r.IntN(len(edges))]
	}
	if bits == 32 {
		return float64(math.Float32frombits(r.Uint32()))
	}
	return math.Float64frombits(r.Uint64())
}

// valueEqual compares two values of type t, treating every NaN as equal to
// every other (NaN payloads do not survive JSON, and the canonical ABI
// canonicalizes them anyway) and telling 0 from -0.
func valueEqual(t *types.Type, a, b any) bool {
	switch t.Kind {
	case types.F32:
		x, ok1 := a.(float32)
		y, ok2 := b.(float32)
		return ok1 && ok2 && floatSame(float64(x), float64(y))
	case types.F64:
		x, ok1 := a.(float64)
		y, ok2 := b.(float64)
		return ok1 && ok2 && floatSame(x, y)
	case types.List:
		x, ok1 := a.([]any)
		y, ok2 := b.([]any)
		if !ok1 || !ok2 || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(t.Elem, x[i], y[i]) {
				return false
			}
		}
		return true
	case types.Record, types.Tuple:
		x, ok1 := a.([]any)
		y, ok2 := b.([]any)
		if !ok1 || !ok2 || len(x) != len(t.Fields) || len(y) != len(t.Fields) {
			return false
		}
		for i, f := range t.Fields {
			if !valueEqual(f.Type, x[i], y[i]) {
				return false
			}
		}
		return true
	case types.Variant, types.Enum, types.Option, types.Result:
		x, ok1 := a.(types.VariantValue)
		y, ok2 := b.(types.VariantValue)
		if !ok1 || !ok2 || x.Case != y.Case {
			return false
		}
		var payload *types.Type
		switch t.Kind {
		case types.Variant:
			payload = t.Cases[x.Case].Type
		case types.Option:
			if x.Case == 1 {
				payload = t.Elem
			}
		case types.Result:
			payload = t.OK
			if x.Case == 1 {
				payload = t.Err
			}
		}
		if payload == nil {
			return x.Value == nil && y.Value == nil
		}
		return valueEqual(payload, x.Value, y.Value)
	}
	return a == b
}

func floatSame(x, y float64) bool {
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.IsNaN(x) && math.IsNaN(y)
	}
	return x == y && math.Signbit(x) == math.Signbit(y)
}
