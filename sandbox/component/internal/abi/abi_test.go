package abi

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

var encodings = []StringEncoding{UTF8, UTF16, Latin1UTF16}

// TestRoundTripRandom lowers random values of random types and lifts them
// back, both through linear memory (store/load) and flat (lower_flat/lift_flat),
// in every string encoding.
func TestRoundTripRandom(t *testing.T) {
	for _, enc := range encodings {
		t.Run(enc.String(), func(t *testing.T) {
			g := newGuest(t)
			g.opts.Encoding = enc
			r := rand.New(rand.NewPCG(1, uint64(enc)))
			for i := range 400 {
				typ := genType(randChoices{r}, 3, true)
				v := genValue(r, typ)
				want := canonical(v)

				lw := g.opts.newLowerer(g.ctx, &callScope{})
				ptr, err := lw.allocate(Align(typ), Size(typ))
				if err != nil {
					t.Fatalf("#%d %s: allocate: %v", i, typ, err)
				}
				if err := lw.store(v, typ, ptr); err != nil {
					t.Fatalf("#%d %s: store %#v: %v", i, typ, v, err)
				}
				got, err := g.opts.newLifter(&callScope{}).load(ptr, typ)
				if err != nil {
					t.Fatalf("#%d %s: load: %v", i, typ, err)
				}
				if !sameValue(want, got) {
					t.Fatalf("#%d %s through memory: stored %#v, loaded %#v", i, typ, want, got)
				}

				flat, err := lw.lowerFlat(nil, v, typ)
				if err != nil {
					t.Fatalf("#%d %s: lower_flat %#v: %v", i, typ, v, err)
				}
				if len(flat) != len(Flatten(typ)) {
					t.Fatalf("#%d %s: lower_flat gave %d values, Flatten says %d", i, typ, len(flat), len(Flatten(typ)))
				}
				got, err = g.opts.newLifter(&callScope{}).liftFlat(&flatReader{vals: flat}, typ)
				if err != nil {
					t.Fatalf("#%d %s: lift_flat: %v", i, typ, err)
				}
				if !sameValue(want, got) {
					t.Fatalf("#%d %s flat: lowered %#v, lifted %#v", i, typ, want, got)
				}
			}
		})
	}
}

// echoType is func(a: T, b: pad) -> tuple<T, pad>, with pad sixteen u64s so
// that both parameters and results always travel through memory.
func echoType(typ *types.Type) (*types.Func, []any) {
	padTypes := make([]*types.Type, 16)
	pad := make([]any, 16)
	for i := range padTypes {
		padTypes[i] = types.U64Type
		pad[i] = uint64(i) * 0x0101010101010101
	}
	padType := types.TupleOf(padTypes...)
	return &types.Func{Params: params(typ, padType), Results: []types.Param{{Type: types.TupleOf(typ, padType)}}}, pad
}

// TestEchoThroughExportAndImport passes random values into the guest through
// CallExport, from the guest to a host import through ServeImport, and back
// out both ways, checking they arrive unchanged and no handle is left behind.
func TestEchoThroughExportAndImport(t *testing.T) {
	for _, enc := range encodings {
		for _, via := range []string{"identity_i32", "call_echo"} {
			t.Run(enc.String()+"/"+via, func(t *testing.T) {
				g := newGuest(t)
				g.opts.Encoding = enc
				r := rand.New(rand.NewPCG(2, uint64(enc)))
				for i := range 150 {
					typ := genType(randChoices{r}, 3, false)
					v := genValue(r, typ)
					ft, pad := echoType(typ)
					g.importTypes["echo"] = ft
					g.impls["echo"] = func(_ context.Context, args []any) ([]any, error) {
						return []any{[]any{args[0], args[1]}}, nil
					}
					got, err := g.call(via, ft, v, pad)
					if err != nil {
						t.Fatalf("#%d %s: %v", i, typ, err)
					}
					want := []any{[]any{canonical(v), pad}}
					if !sameValue(want, got) {
						t.Fatalf("#%d %s: sent %#v, got back %#v", i, typ, want, got)
					}
					if n := g.inst.liveHandles(); n != 0 {
						t.Fatalf("#%d %s: %d handles left in the table", i, typ, n)
					}
				}
			})
		}
	}
}

func u32Params(n int) ([]*types.Type, []any, uint32) {
	ts := make([]*types.Type, n)
	args := make([]any, n)
	var sum uint32
	for i := range ts {
		ts[i] = types.U32Type
		args[i] = uint32(i + 1)
		sum += uint32(i + 1)
	}
	return ts, args, sum
}

func sumImpl(_ context.Context, args []any) ([]any, error) {
	var s uint32
	for _, a := range args {
		s += a.(uint32)
	}
	return []any{s}, nil
}

func TestFlatteningBoundaries(t *testing.T) {
	p16, args16, sum16 := u32Params(16)
	p17, args17, sum17 := u32Params(17)
	pair := types.TupleOf(types.U32Type, types.U32Type)
	tests := []struct {
		name      string
		export    string
		ft        *types.Func
		args      []any
		importFT  *types.Func // the type of the import export calls, if any
		importImp func(context.Context, []any) ([]any, error)
		want      []any
	}{
		{name: "lift_16_flat_params", export: "sum16", ft: &types.Func{Params: params(p16...), Results: []types.Param{{Type: types.U32Type}}}, args: args16, want: []any{sum16}},
		{name: "lift_17_params_in_memory", export: "sum17", ft: &types.Func{Params: params(p17...), Results: []types.Param{{Type: types.U32Type}}}, args: args17, want: []any{sum17}},
		{name: "lift_1_flat_result", export: "identity_i32", ft: fn1(types.U32Type, types.U32Type), args: []any{uint32(5)}, want: []any{uint32(5)}},
		{name: "lift_2_results_in_memory", export: "pair", ft: &types.Func{Results: []types.Param{{Type: pair}}}, want: []any{[]any{uint32(7), uint32(9)}}},
		{name: "lift_2_named_results_in_memory", export: "pair", ft: &types.Func{Results: []types.Param{{Name: "x", Type: types.U32Type}, {Name: "y", Type: types.U32Type}}}, want: []any{uint32(7), uint32(9)}},
		{
			name: "lower_16_flat_params", export: "call_sum16",
			ft: &types.Func{Params: params(p16...), Results: []types.Param{{Type: types.U32Type}}}, args: args16,
			importFT: &types.Func{Params: params(p16...), Results: []types.Param{{Type: types.U32Type}}}, importImp: sumImpl,
			want: []any{sum16},
		},
		{
			name: "lower_17_params_in_memory", export: "call_sum17",
			ft: &types.Func{Params: params(p17...), Results: []types.Param{{Type: types.U32Type}}}, args: args17,
			importFT: &types.Func{Params: params(p17...), Results: []types.Param{{Type: types.U32Type}}}, importImp: sumImpl,
			want: []any{sum17},
		},
		{
			name: "lower_1_flat_result", export: "call_get1", ft: &types.Func{Results: []types.Param{{Type: types.U32Type}}},
			importFT:  &types.Func{Results: []types.Param{{Type: types.U32Type}}},
			importImp: func(context.Context, []any) ([]any, error) { return []any{uint32(5)}, nil },
			want:      []any{uint32(5)},
		},
		{
			name: "lower_2_results_in_memory", export: "call_get2", ft: &types.Func{Results: []types.Param{{Type: pair}}},
			importFT:  &types.Func{Results: []types.Param{{Type: pair}}},
			importImp: func(context.Context, []any) ([]any, error) { return []any{[]any{uint32(3), uint32(4)}}, nil },
			want:      []any{[]any{uint32(3), uint32(4)}},
		},
	}
	importNames := map[string]string{"call_sum16": "sum16", "call_sum17": "sum17", "call_get1": "get1", "call_get2": "get2"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuest(t)
			// The core signatures in guest.wat were written from the spec; the
			// flattening must agree with them.
			def := g.fn(tc.export).Definition()
			flat := FlattenFunc(tc.ft, Lift)
			if !slices.Equal(flat.Params, def.ParamTypes()) || !slices.Equal(flat.Results, def.ResultTypes()) {
				t.Fatalf("FlattenFunc(%s, Lift) = %v -> %v, core export %s is %v -> %v",
					tc.ft, flat.Params, flat.Results, tc.export, def.ParamTypes(), def.ResultTypes())
			}
			if tc.importFT != nil {
				name := importNames[tc.export]
				for _, imp := range hostImports {
					if imp.name != name {
						continue
					}
					lf := FlattenFunc(tc.importFT, Lower)
					if !slices.Equal(lf.Params, imp.params) || !slices.Equal(lf.Results, imp.results) {
						t.Fatalf("FlattenFunc(%s, Lower) = %v -> %v, core import %s is %v -> %v",
							tc.importFT, lf.Params, lf.Results, name, imp.params, imp.results)
					}
				}
				g.importTypes[name] = tc.importFT
				g.impls[name] = tc.importImp
			}
			got, err := g.call(tc.export, tc.ft, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValue(tc.want, got) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestLiftFlatConversions checks how lift_flat reads core values: bool is any
// nonzero i32, narrow integers wrap, flags ignore bits past their labels,
// floats canonicalize NaNs.
func TestLiftFlatConversions(t *testing.T) {
	tests := []struct {
		name string
		typ  *types.Type
		flat uint64
		want any
	}{
		{name: "bool_nonzero", typ: types.BoolType, flat: 2, want: true},
		{name: "bool_high_bits_ignored", typ: types.BoolType, flat: 1 << 32, want: false},
		{name: "u8_wraps", typ: types.U8Type, flat: 0x1ff, want: uint8(0xff)},
		{name: "s8_sign", typ: types.S8Type, flat: 0x80, want: int8(-128)},
		{name: "s16_sign", typ: types.S16Type, flat: 0xffff8000, want: int16(-32768)},
		{name: "s32_sign", typ: types.S32Type, flat: 0xffffffff, want: int32(-1)},
		{name: "s64", typ: types.S64Type, flat: math.MaxUint64, want: int64(-1)},
		{name: "flags_extra_bits_ignored", typ: types.FlagsOf("a", "b", "c"), flat: 0xff, want: uint32(7)},
		{name: "flags_32", typ: types.FlagsOf(labels(32)...), flat: 0xffffffff, want: uint32(0xffffffff)},
		{name: "f32_nan_canonical", typ: types.F32Type, flat: 0xffc12345, want: math.Float32frombits(canonicalNaN32)},
		{name: "f64_nan_canonical", typ: types.F64Type, flat: 0xfff0000000000001, want: math.Float64frombits(canonicalNaN64)},
		{name: "char_max", typ: types.CharType, flat: 0x10ffff, want: rune(0x10ffff)},
		{name: "option_none", typ: types.OptionOf(types.U8Type), flat: 0, want: types.VariantValue{Case: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &lifter{inst: NewInstance(), budget: DefaultMaxLiftBytes, limit: DefaultMaxLiftBytes}
			vals := make([]uint64, len(Flatten(tc.typ)))
			vals[0] = tc.flat
			got, err := l.liftFlat(&flatReader{vals: vals}, tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValue(tc.want, got) {
				t.Fatalf("lift_flat(%#x) as %s = %#v, want %#v", tc.flat, tc.typ, got, tc.want)
			}
		})
	}
}

// TestVariantJoinedPayloads lowers variants whose cases flatten to different
// core types sharing joined slots, checks the exact flat values, and lifts
// them back.
func TestVariantJoinedPayloads(t *testing.T) {
	v := types.VariantOf(
		types.Case{Name: "f", Type: types.F32Type},
		types.Case{Name: "d", Type: types.F64Type},
		types.Case{Name: "i", Type: types.S32Type},
		types.Case{Name: "l", Type: types.S64Type},
		types.Case{Name: "pair", Type: types.TupleOf(types.F32Type, types.U8Type)},
		types.Case{Name: "none"},
	)
	tests := []struct {
		name  string
		value types.VariantValue
		flat  []uint64
	}{
		{name: "f32_in_i64", value: types.VariantValue{Case: 0, Value: float32(1.5)}, flat: []uint64{0, uint64(math.Float32bits(1.5)), 0}},
		{name: "f64_in_i64", value: types.VariantValue{Case: 1, Value: -2.25}, flat: []uint64{1, math.Float64bits(-2.25), 0}},
		{name: "s32_zero_extended", value: types.VariantValue{Case: 2, Value: int32(-1)}, flat: []uint64{2, 0xffffffff, 0}},
		{name: "s64", value: types.VariantValue{Case: 3, Value: int64(-2)}, flat: []uint64{3, 0xfffffffffffffffe, 0}},
		{name: "f32_then_i32_in_joined_i32", value: types.VariantValue{Case: 4, Value: []any{float32(-0.5), uint8(200)}}, flat: []uint64{4, uint64(math.Float32bits(-0.5)), 200}},
		{name: "no_payload_zero_padded", value: types.VariantValue{Case: 5}, flat: []uint64{5, 0, 0}},
	}
	if got := Flatten(v); len(got) != 3 {
		t.Fatalf("Flatten(%s) = %v, want [i32 i64 i32]", v, got)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lw := &lowerer{ctx: context.Background(), opts: &Options{}, inst: NewInstance()}
			flat, err := lw.lowerFlat(nil, tc.value, v)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(flat, tc.flat) {
				t.Fatalf("lower_flat = %#x, want %#x", flat, tc.flat)
			}
			// A wider slot may hold garbage in its high bits: lifting wraps.
			flat[1] |= 0xdead0000_00000000 &^ (uint64(math.MaxUint64) * boolU64(tc.value.Case == 1 || tc.value.Case == 3))
			l := &lifter{inst: NewInstance(), budget: DefaultMaxLiftBytes, limit: DefaultMaxLiftBytes}
			got, err := l.liftFlat(&flatReader{vals: flat}, v)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValue(tc.value, got) {
				t.Fatalf("lift_flat = %#v, want %#v", got, tc.value)
			}
		})
	}
}

func boolU64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// TestNaNCanonicalizedThroughGuest passes a NaN with a payload into the guest
// and back: the canonical ABI lets the host see only the canonical NaN.
func TestNaNCanonicalizedThroughGuest(t *testing.T) {
	g := newGuest(t)
	nan32 := math.Float32frombits(0x7fa00001)
	got, err := g.call("identity_f32", fn1(types.F32Type, types.F32Type), nan32)
	if err != nil {
		t.Fatal(err)
	}
	if bits := math.Float32bits(got[0].(float32)); bits != canonicalNaN32 {
		t.Fatalf("f32 NaN came back as %#x, want %#x", bits, canonicalNaN32)
	}
	nan64 := math.Float64frombits(0xfff4000000000000)
	got, err = g.call("identity_f64", fn1(types.F64Type, types.F64Type), nan64)
	if err != nil {
		t.Fatal(err)
	}
	if bits := math.Float64bits(got[0].(float64)); bits != canonicalNaN64 {
		t.Fatalf("f64 NaN came back as %#x, want %#x", bits, uint64(canonicalNaN64))
	}
}

// recordingRealloc is the guest's cabi_realloc, recording each call's
// (old != 0, old size, alignment, new size).
type recordingRealloc struct {
	api.Function
	calls [][4]uint32
}

func (r *recordingRealloc) CallWithStack(ctx context.Context, stack []uint64) error {
	old := uint32(0)
	if stack[0] != 0 {
		old = 1
	}
	r.calls = append(r.calls, [4]uint32{old, uint32(stack[1]), uint32(stack[2]), uint32(stack[3])})
	return r.Function.CallWithStack(ctx, stack)
}

// TestStringEncodingLayout checks the bytes and tagged lengths each encoding
// gives the guest, including the latin1+utf16 tag, and that realloc is called
// with exactly the sizes the canonical ABI prescribes (worst case first, then
// shrinking). Each realloc is (old != 0, old size, alignment, new size).
func TestStringEncodingLayout(t *testing.T) {
	tests := []struct {
		name         string
		enc          StringEncoding
		s            string
		wantUnits    uint32
		wantBytes    []byte
		wantReallocs [][4]uint32
	}{
		{name: "utf8", enc: UTF8, s: "héllo", wantUnits: 6, wantBytes: []byte("héllo"),
			wantReallocs: [][4]uint32{{0, 0, 1, 6}}},
		{name: "utf16_bmp", enc: UTF16, s: "hé", wantUnits: 2, wantBytes: []byte{'h', 0, 0xe9, 0},
			wantReallocs: [][4]uint32{{0, 0, 2, 6}, {1, 6, 2, 4}}},
		{name: "utf16_astral", enc: UTF16, s: "🎉", wantUnits: 2, wantBytes: []byte{0x3c, 0xd8, 0x89, 0xdf},
			wantReallocs: [][4]uint32{{0, 0, 2, 8}, {1, 8, 2, 4}}},
		{name: "utf16_empty", enc: UTF16, s: "", wantUnits: 0, wantBytes: []byte{},
			wantReallocs: [][4]uint32{{0, 0, 2, 0}}},
		{name: "latin1", enc: Latin1UTF16, s: "héllo", wantUnits: 5, wantBytes: []byte{'h', 0xe9, 'l', 'l', 'o'},
			wantReallocs: [][4]uint32{{0, 0, 2, 6}, {1, 6, 2, 5}}},
		{name: "latin1_ascii_no_shrink", enc: Latin1UTF16, s: "abc", wantUnits: 3, wantBytes: []byte("abc"),
			wantReallocs: [][4]uint32{{0, 0, 2, 3}}},
		{name: "latin1_widened_to_utf16", enc: Latin1UTF16, s: "é☃", wantUnits: 2 | utf16Tag, wantBytes: []byte{0xe9, 0, 0x03, 0x26},
			wantReallocs: [][4]uint32{{0, 0, 2, 5}, {1, 5, 2, 10}, {1, 10, 2, 4}}},
		{name: "latin1_widened_astral", enc: Latin1UTF16, s: "a🎉", wantUnits: 3 | utf16Tag, wantBytes: []byte{'a', 0, 0x3c, 0xd8, 0x89, 0xdf},
			wantReallocs: [][4]uint32{{0, 0, 2, 5}, {1, 5, 2, 10}, {1, 10, 2, 6}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuest(t)
			rec := &recordingRealloc{Function: g.opts.Realloc}
			g.opts.Realloc = rec
			g.opts.Encoding = tc.enc
			lw := g.opts.newLowerer(g.ctx, nil)
			ptr, units, err := lw.storeStringIntoRange(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if units != tc.wantUnits {
				t.Fatalf("tagged code units = %#x, want %#x", units, tc.wantUnits)
			}
			if !slices.Equal(rec.calls, tc.wantReallocs) {
				t.Fatalf("realloc calls %v, want %v", rec.calls, tc.wantReallocs)
			}
			got, _ := g.mod.Memory().Read(ptr, uint32(len(tc.wantBytes)))
			if !slices.Equal(got, tc.wantBytes) {
				t.Fatalf("memory at %#x = % x, want % x", ptr, got, tc.wantBytes)
			}
			back, err := g.opts.newLifter(nil).loadStringRange(ptr, units)
			if err != nil {
				t.Fatal(err)
			}
			if back != tc.s {
				t.Fatalf("lifted %q, want %q", back, tc.s)
			}
		})
	}
}

func le32(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

// TestTraps makes the guest misbehave in each way the canonical ABI traps on,
// checks the error is a Trap saying what went wrong, and that the instance
// serves the next call normally.
func TestTraps(t *testing.T) {
	_, args17, _ := u32Params(17)
	p17, _, _ := u32Params(17)
	sum17 := &types.Func{Params: params(p17...), Results: []types.Param{{Type: types.U32Type}}}
	tests := []struct {
		name    string
		setup   func(g *guest)
		run     func(g *guest) error
		wantMsg string
	}{
		{
			name:  "string_out_of_bounds",
			setup: func(g *guest) { g.write(2048, le32(0xfffffff0, 16)) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.StringType), uint32(2048))
				return err
			},
			wantMsg: "string pointer 0xfffffff0 + 16 bytes is outside linear memory (65536 bytes)",
		},
		{
			name:  "string_too_long",
			setup: func(g *guest) { g.write(2048, le32(0, 1<<28)) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.StringType), uint32(2048))
				return err
			},
			wantMsg: "over the canonical ABI's limit",
		},
		{
			name:  "string_invalid_utf8",
			setup: func(g *guest) { g.write(2048, le32(3000, 2)); g.write(3000, []byte{0xff, 0xfe}) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.StringType), uint32(2048))
				return err
			},
			wantMsg: "is not valid UTF-8",
		},
		{
			name: "string_unpaired_surrogate",
			setup: func(g *guest) {
				g.opts.Encoding = UTF16
				g.write(2048, le32(3000, 2))
				g.write(3000, []byte{0x00, 0xd8, 'A', 0})
			},
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.StringType), uint32(2048))
				return err
			},
			wantMsg: "unpaired surrogate 0xd800",
		},
		{
			name:  "string_utf16_misaligned",
			setup: func(g *guest) { g.opts.Encoding = Latin1UTF16; g.write(2048, le32(3001, 1|utf16Tag)) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.StringType), uint32(2048))
				return err
			},
			wantMsg: "string pointer 0xbb9 is not 2-byte aligned",
		},
		{
			name:  "list_2_pow_31_elements",
			setup: func(g *guest) { g.write(2048, le32(0, 1<<31)) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.ListOf(types.U64Type)), uint32(2048))
				return err
			},
			wantMsg: "over the canonical ABI's limit",
		},
		{
			name:  "list_beyond_memory",
			setup: func(g *guest) { g.write(2048, le32(0, 1<<27)) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.ListOf(types.U8Type)), uint32(2048))
				return err
			},
			wantMsg: "list pointer 0x0 + 134217728 bytes is outside linear memory (65536 bytes)",
		},
		{
			name:  "list_misaligned",
			setup: func(g *guest) { g.write(2048, le32(3001, 1)) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.ListOf(types.U32Type)), uint32(2048))
				return err
			},
			wantMsg: "list pointer 0xbb9 is not 4-byte aligned",
		},
		{
			name: "results_out_of_bounds",
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.TupleOf(types.U32Type, types.U32Type)), uint32(0xfffffffc))
				return err
			},
			wantMsg: "results pointer 0xfffffffc + 8 bytes is outside linear memory",
		},
		{
			name: "results_misaligned",
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.TupleOf(types.U32Type, types.U32Type)), uint32(2))
				return err
			},
			wantMsg: "results pointer 0x2 is not 4-byte aligned",
		},
		{
			name: "flat_discriminant",
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.EnumOf("a", "b")), uint32(5))
				return err
			},
			wantMsg: "enum discriminant 5 is out of range (2 cases)",
		},
		{
			name:  "memory_discriminant",
			setup: func(g *guest) { g.write(2048, []byte{9}) },
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.OptionOf(types.U64Type)), uint32(2048))
				return err
			},
			wantMsg: "option discriminant 9 at 0x800 is out of range (2 cases)",
		},
		{
			name: "char_surrogate",
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.CharType), uint32(0xdfff))
				return err
			},
			wantMsg: "char value 0xdfff is a surrogate",
		},
		{
			name: "char_too_large",
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.CharType), uint32(0x110000))
				return err
			},
			wantMsg: "char value 0x110000 is beyond",
		},
		{
			name: "bad_handle",
			run: func(g *guest) error {
				_, err := g.call("identity_i32", fn1(types.U32Type, types.OwnOf(testHostResource)), uint32(7))
				return err
			},
			wantMsg: "handle 7 does not exist",
		},
		{
			name:    "realloc_misaligned",
			setup:   func(g *guest) { g.setMode(1) },
			run:     func(g *guest) error { _, err := g.call("sum17", sum17, args17...); return err },
			wantMsg: "cabi_realloc(0x0, 0, 4, 68) returned 0x401, which is not 4-byte aligned",
		},
		{
			name:    "realloc_out_of_bounds",
			setup:   func(g *guest) { g.setMode(2) },
			run:     func(g *guest) error { _, err := g.call("sum17", sum17, args17...); return err },
			wantMsg: "returned 0xfffffff0, but 0xfffffff0 + 68 bytes is outside linear memory (65536 bytes)",
		},
		{
			name:    "realloc_traps",
			setup:   func(g *guest) { g.setMode(3) },
			run:     func(g *guest) error { _, err := g.call("sum17", sum17, args17...); return err },
			wantMsg: "cabi_realloc(0x0, 0, 4, 68) failed",
		},
		{
			name:    "realloc_calls_import",
			setup:   func(g *guest) { g.setMode(4) },
			run:     func(g *guest) error { _, err := g.call("sum17", sum17, args17...); return err },
			wantMsg: "an import was called from cabi_realloc, post-return or a destructor",
		},
		{
			name:  "post_return_calls_import",
			setup: func(g *guest) { g.setMode(5) },
			run: func(g *guest) error {
				o := *g.opts
				o.PostReturn = g.fn("post_return")
				_, err := o.CallExport(g.ctx, g.fn("identity_i32"), fn1(types.U32Type, types.U32Type), []any{uint32(1)})
				return err
			},
			wantMsg: "post-return trapped",
		},
		{
			name:    "guest_trap",
			run:     func(g *guest) error { _, err := g.call("trap", &types.Func{}); return err },
			wantMsg: "the guest trapped",
		},
		{
			name: "reentrance",
			setup: func(g *guest) {
				g.importTypes["get1"] = &types.Func{Results: []types.Param{{Type: types.U32Type}}}
				g.impls["get1"] = func(ctx context.Context, _ []any) ([]any, error) {
					_, err := g.call("identity_i32", fn1(types.U32Type, types.U32Type), uint32(1))
					return nil, err
				}
			},
			run: func(g *guest) error {
				_, err := g.call("call_get1", &types.Func{Results: []types.Param{{Type: types.U32Type}}})
				return err
			},
			wantMsg: "the component instance was re-entered",
		},
	}
	p16, args16, want16 := u32Params(16)
	sum16 := &types.Func{Params: params(p16...), Results: []types.Param{{Type: types.U32Type}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuest(t)
			if tc.setup != nil {
				tc.setup(g)
			}
			err := tc.run(g)
			var trap *Trap
			if !errors.As(err, &trap) {
				t.Fatalf("got error %v, want a *Trap", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tc.wantMsg)
			}
			g.setMode(0)
			got, err := g.call("sum16", sum16, args16...)
			if err != nil || got[0] != want16 {
				t.Fatalf("the next call gave %v, %v; want %d", got, err, want16)
			}
			if _, err := g.call("sum17", sum17, args17...); err != nil {
				t.Fatalf("the next call with realloc failed: %v", err)
			}
		})
	}
}

func TestPostReturnCalled(t *testing.T) {
	g := newGuest(t)
	o := *g.opts
	o.PostReturn = g.fn("post_return")
	for range 2 {
		if _, err := o.CallExport(g.ctx, g.fn("identity_i32"), fn1(types.U32Type, types.U32Type), []any{uint32(1)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := g.fn("post_calls").Call(g.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 2 {
		t.Fatalf("post-return ran %d times, want 2", got[0])
	}
}

// TestHostValueErrors checks that Go values not matching their types are
// reported as host errors (not Traps) and do not panic.
func TestHostValueErrors(t *testing.T) {
	tests := []struct {
		name  string
		typ   *types.Type
		value any
		want  string
	}{
		{name: "wrong_go_type", typ: types.U32Type, value: 5, want: "value of Go type int cannot be lowered as u32 (want uint32)"},
		{name: "record_arity", typ: types.TupleOf(types.U8Type, types.U8Type), value: []any{uint8(1)}, want: "has 2 fields, but the value has 1"},
		{name: "case_out_of_range", typ: types.OptionOf(types.U8Type), value: types.VariantValue{Case: 2}, want: "case 2 of option<u8> does not exist"},
		{name: "payload_on_empty_case", typ: types.OptionOf(types.U8Type), value: types.VariantValue{Case: 0, Value: uint8(1)}, want: "has no payload"},
		{name: "surrogate_char", typ: types.CharType, value: rune(0xd800), want: "not a Unicode scalar value"},
		{name: "invalid_utf8", typ: types.StringType, value: "\xff", want: "not valid UTF-8"},
		{name: "wrong_resource", typ: types.OwnOf(testHostResource), value: types.Handle{Resource: testGuestResource}, want: "cannot be lowered as own<host-thing>"},
		{name: "borrow_in_result", typ: types.BorrowOf(testHostResource), value: types.Handle{Resource: testHostResource}, want: "results never contain borrows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuest(t)
			lw := g.opts.newLowerer(g.ctx, nil)
			_, err := lw.lowerFlat(nil, tc.value, tc.typ)
			var trap *Trap
			if err == nil || errors.As(err, &trap) {
				t.Fatalf("got %v, want a host (non-Trap) error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestLiftBudget checks that lists aliasing the same memory cannot make the
// host build more than MaxLiftBytes.
func TestLiftBudget(t *testing.T) {
	g := newGuest(t)
	// 4096 list<u8> headers at 8192, each pointing at the same 32 KiB: 128 MiB
	// of elements described by 64 KiB of memory.
	var headers []byte
	for range 4096 {
		headers = append(headers, le32(0, 32<<10)...)
	}
	g.write(8192, le32(8192+8, 4096))
	g.write(8192+8, headers) // ends at 40968, inside the first page
	g.opts.MaxLiftBytes = 1 << 20
	_, err := g.call("identity_i32", fn1(types.U32Type, types.ListOf(types.ListOf(types.U8Type))), uint32(8192))
	var trap *Trap
	if !errors.As(err, &trap) || !strings.Contains(err.Error(), "more than the host's limit of 1048576 bytes") {
		t.Fatalf("got %v, want a Trap for exceeding the lift budget", err)
	}
}
