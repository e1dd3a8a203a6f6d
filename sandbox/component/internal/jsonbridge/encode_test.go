package jsonbridge

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

func TestEncode(t *testing.T) {
	shape := types.VariantOf(types.Case{Name: "none"}, types.Case{Name: "text", Type: types.StringType})
	tests := []struct {
		name string
		t    *types.Type
		v    any
		want string
	}{
		{"bool", types.BoolType, true, `true`},
		{"s8", types.S8Type, int8(-128), `-128`},
		{"s64Min", types.S64Type, int64(math.MinInt64), `-9223372036854775808`},
		{"u64Max", types.U64Type, uint64(math.MaxUint64), `18446744073709551615`},
		{"u16", types.U16Type, uint16(65535), `65535`},
		{"f64", types.F64Type, 1.5, `1.5`},
		{"f64Large", types.F64Type, 1e21, `1e+21`},
		{"f64Million", types.F64Type, 1e6, `1000000`},
		{"f64NegZero", types.F64Type, math.Copysign(0, -1), `-0`},
		{"f64NaN", types.F64Type, math.NaN(), `"NaN"`},
		{"f64Inf", types.F64Type, math.Inf(1), `"Infinity"`},
		{"f32NegInf", types.F32Type, float32(math.Inf(-1)), `"-Infinity"`},
		{"f32Shortest", types.F32Type, float32(0.1), `0.1`},
		{"char", types.CharType, '😀', `"😀"`},
		{"charQuote", types.CharType, '"', `"\""`},
		{"string", types.StringType, "a<b>&\"\\\n\x01", `"a<b>&\"\\\n\u0001"`},
		{"bytes", types.ListOf(types.U8Type), []any{uint8(0), uint8(255)}, `[0,255]`},
		{"record", point(), []any{int32(1), int32(-2)}, `{"x":1,"y":-2}`},
		{"tuple", types.TupleOf(types.StringType, types.BoolType), []any{"a", false}, `["a",false]`},
		{"variantNoPayload", shape, vv{Case: 0}, `{"tag":"none"}`},
		{"variantPayload", shape, vv{Case: 1, Value: "hi"}, `{"tag":"text","val":"hi"}`},
		{"enum", types.EnumOf("red", "green"), vv{Case: 1}, `"green"`},
		{"optionNone", types.OptionOf(types.StringType), vv{Case: 0}, `null`},
		{"optionSome", types.OptionOf(types.StringType), vv{Case: 1, Value: "x"}, `"x"`},
		{"optionOptionSomeNone", types.OptionOf(types.OptionOf(types.U8Type)), vv{Case: 1, Value: vv{Case: 0}}, `{"some":null}`},
		{"optionOptionSomeSome", types.OptionOf(types.OptionOf(types.U8Type)), vv{Case: 1, Value: vv{Case: 1, Value: uint8(2)}}, `{"some":2}`},
		{"resultOk", types.ResultOf(types.StringType, nil), vv{Case: 0, Value: "fine"}, `{"ok":"fine"}`},
		{"resultErrEmpty", types.ResultOf(types.StringType, nil), vv{Case: 1}, `{"err":null}`},
		{"flags", types.FlagsOf("read", "write", "exec"), uint32(0b101), `["read","exec"]`},
		{"flagsAll32", types.FlagsOf(labels(32)...), uint32(1 << 31), `["l31"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.t, tt.v)
			if err != nil {
				t.Fatalf("Encode(%s, %#v): %v", tt.t, tt.v, err)
			}
			if string(got) != tt.want {
				t.Errorf("Encode(%s, %#v) = %s, want %s", tt.t, tt.v, got, tt.want)
			}
		})
	}
}

func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("l%d", i)
	}
	return out
}

func TestEncodeErrors(t *testing.T) {
	shape := types.VariantOf(types.Case{Name: "none"}, types.Case{Name: "text", Type: types.StringType})
	tests := []struct {
		name string
		t    *types.Type
		v    any
		want string
	}{
		{"wrongGoType", types.U8Type, 3, `value: a u8 needs a Go uint8, got int`},
		{"wrongWidth", types.S32Type, int64(3), `value: a s32 needs a Go int32, got int64`},
		{"signedForUnsigned", types.U32Type, int32(3), `value: a u32 needs a Go uint32, got int32`},
		{"nilString", types.StringType, nil, `value: a string needs a Go string, got <nil>`},
		{"invalidUTF8", types.StringType, "\xff", `value: string is not valid UTF-8`},
		{"surrogateChar", types.CharType, rune(0xD800), `value: char 0xd800 is not a Unicode scalar value`},
		{"recordArity", point(), []any{int32(1)}, `value: point has 2 fields, got 1 values`},
		{"recordFieldPath", point(), []any{int32(1), "two"}, `value.y: a s32 needs a Go int32, got string`},
		{"listElemPath", types.ListOf(types.StringType), []any{"a", 2}, `value[1]: a string needs a Go string, got int`},
		{"variantCaseRange", shape, vv{Case: 2}, `value: case 2 is out of range: variant { none, text(string) } has 2 cases`},
		{"variantUnexpectedPayload", shape, vv{Case: 0, Value: "x"}, `value: case "none" has no payload, got a string`},
		{"variantNotVariantValue", shape, "none", `value: a variant needs a Go types.VariantValue, got string`},
		{"enumPayload", types.EnumOf("a"), vv{Case: 0, Value: 1}, `value: an enum case has no payload, got a int`},
		{"optionCase", types.OptionOf(types.U8Type), vv{Case: 2}, `value: case 2 is out of range for an option (0 none, 1 some)`},
		{"resultCase", types.ResultOf(nil, nil), vv{Case: 5}, `value: case 5 is out of range for a result (0 ok, 1 err)`},
		{"resultEmptySidePayload", types.ResultOf(nil, nil), vv{Case: 0, Value: 1}, `value.ok: this side carries no value, got a int`},
		{"flagsExtraBits", types.FlagsOf("a", "b"), uint32(4), `value: flags value 0x4 sets bits beyond the 2 flags of flags { a, b }`},
		{"resource", types.OwnOf(&types.Resource{Name: "file"}), types.Handle{}, `value: own<file> cannot be represented in JSON: it is a resource handle, which only exists inside a running instance`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.t, tt.v)
			if err == nil {
				t.Fatalf("Encode(%s, %#v) = %s, want error %q", tt.t, tt.v, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestEncodeResults(t *testing.T) {
	tests := []struct {
		name           string
		ft             *types.Func
		results        []any
		wantStructured string
		wantText       string
	}{
		{"none", &types.Func{}, nil, "", ""},
		{"string", &types.Func{Results: []types.Param{{Type: types.StringType}}},
			[]any{"hello \"world\""}, `{"result":"hello \"world\""}`, `hello "world"`},
		{"number", &types.Func{Results: []types.Param{{Type: types.U32Type}}},
			[]any{uint32(7)}, `{"result":7}`, `7`},
		{"resultErr", &types.Func{Results: []types.Param{{Type: types.ResultOf(types.StringType, types.StringType)}}},
			[]any{vv{Case: 1, Value: "no such file"}}, `{"result":{"err":"no such file"}}`, `{"err":"no such file"}`},
		{"named", &types.Func{Results: []types.Param{{Name: "a", Type: types.StringType}, {Name: "b", Type: types.BoolType}}},
			[]any{"x", true}, `{"result":{"a":"x","b":true}}`, `{"a":"x","b":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			structured, text, err := EncodeResults(tt.ft, tt.results)
			if err != nil {
				t.Fatal(err)
			}
			if string(structured) != tt.wantStructured || text != tt.wantText {
				t.Errorf("EncodeResults = %s, %q; want %s, %q", structured, text, tt.wantStructured, tt.wantText)
			}
			if out, _ := OutputSchema(tt.ft); out != nil {
				if err := validate(out, structured); err != nil {
					t.Errorf("structured result does not match the output schema: %v", err)
				}
			}
		})
	}
}

func TestEncodeResultsErrors(t *testing.T) {
	ft := &types.Func{Results: []types.Param{{Type: types.StringType}}}
	if _, _, err := EncodeResults(ft, nil); err == nil {
		t.Error("EncodeResults with too few values succeeded")
	}
	_, _, err := EncodeResults(ft, []any{1})
	var de *Error
	if !errors.As(err, &de) || de.Path != "result" {
		t.Errorf("EncodeResults with a wrong Go type: got %v, want an *Error at result", err)
	}
}

// TestRoundTrip encodes random values of random types, checks the JSON
// against the type's schema, and decodes it back to the same value.
func TestRoundTrip(t *testing.T) {
	typeCount, values := 400, 10
	if testing.Short() {
		typeCount = 50
	}
	for seed := range uint64(typeCount) {
		r := rand.New(rand.NewPCG(seed, 0x7a9e))
		typ := genType(randBytes{r}, 4)
		schema, err := Schema(typ)
		if err != nil {
			t.Fatalf("seed %d: Schema(%s): %v", seed, typ, err)
		}
		for range values {
			v := genValue(typ, r)
			enc, err := Encode(typ, v)
			if err != nil {
				t.Fatalf("seed %d: Encode(%s, %#v): %v", seed, typ, v, err)
			}
			if err := validate(schema, enc); err != nil {
				t.Fatalf("seed %d: %s does not match the schema of %s: %v\nschema: %s", seed, enc, typ, err, schema)
			}
			back, err := Decode(typ, enc)
			if err != nil {
				t.Fatalf("seed %d: Decode(%s, %s): %v", seed, typ, enc, err)
			}
			if !valueEqual(typ, v, back) {
				t.Fatalf("seed %d: %s: %#v → %s → %#v", seed, typ, v, enc, back)
			}
		}
	}
}
