package jsonbridge

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

type vv = types.VariantValue

func TestDecode(t *testing.T) {
	shape := types.VariantOf(
		types.Case{Name: "none"},
		types.Case{Name: "text", Type: types.StringType},
		types.Case{Name: "maybe", Type: types.OptionOf(types.U8Type)},
	)
	tests := []struct {
		name string
		t    *types.Type
		json string
		want any
	}{
		{"boolTrue", types.BoolType, `true`, true},
		{"s8Min", types.S8Type, `-128`, int8(-128)},
		{"s8Max", types.S8Type, `127`, int8(127)},
		{"u8Max", types.U8Type, `255`, uint8(255)},
		{"s16", types.S16Type, `-32768`, int16(-32768)},
		{"u16", types.U16Type, `65535`, uint16(65535)},
		{"s32", types.S32Type, `-2147483648`, int32(math.MinInt32)},
		{"u32", types.U32Type, `4294967295`, uint32(math.MaxUint32)},
		{"s64Min", types.S64Type, `-9223372036854775808`, int64(math.MinInt64)},
		{"s64Max", types.S64Type, `9223372036854775807`, int64(math.MaxInt64)},
		{"u64Max", types.U64Type, `18446744073709551615`, uint64(math.MaxUint64)},
		{"u64Beyond2To53", types.U64Type, `9007199254740993`, uint64(9007199254740993)},
		{"integralFloat", types.U32Type, `3.0`, uint32(3)},
		{"exponent", types.U32Type, `3e2`, uint32(300)},
		{"exponentWithFraction", types.U32Type, `1.5e1`, uint32(15)},
		{"negativeExponentIntegral", types.U32Type, `1500e-2`, uint32(15)},
		{"negativeZero", types.U8Type, `-0`, uint8(0)},
		{"zeroWithHugeExponent", types.U8Type, `0e999999999999999999999`, uint8(0)},
		{"u64MaxAsExponent", types.U64Type, `1.8446744073709551615e19`, uint64(math.MaxUint64)},
		{"f64", types.F64Type, `1.5`, 1.5},
		{"f64Integer", types.F64Type, `3`, 3.0},
		{"f64NegativeZero", types.F64Type, `-0`, math.Copysign(0, -1)},
		{"f64NaN", types.F64Type, `"NaN"`, math.NaN()},
		{"f64Infinity", types.F64Type, `"Infinity"`, math.Inf(1)},
		{"f32NegInfinity", types.F32Type, `"-Infinity"`, float32(math.Inf(-1))},
		{"f32", types.F32Type, `0.1`, float32(0.1)},
		{"f64Underflow", types.F64Type, `1e-400`, 0.0},
		{"char", types.CharType, `"é"`, 'é'},
		{"charAstral", types.CharType, `"😀"`, '😀'},
		{"charEscapedSurrogatePair", types.CharType, `"\ud83d\ude00"`, '😀'},
		{"string", types.StringType, `"a\"b\n"`, "a\"b\n"},
		{"list", types.ListOf(types.U32Type), `[1,2,3]`, []any{uint32(1), uint32(2), uint32(3)}},
		{"listEmpty", types.ListOf(types.StringType), `[]`, []any{}},
		{"bytesArray", types.ListOf(types.U8Type), `[0,255]`, []any{uint8(0), uint8(255)}},
		{"bytesBase64", types.ListOf(types.U8Type), `"AP8="`, []any{uint8(0), uint8(255)}},
		{"bytesBase64NoPadding", types.ListOf(types.U8Type), `"AP8"`, []any{uint8(0), uint8(255)}},
		{"bytesBase64Empty", types.ListOf(types.U8Type), `""`, []any{}},
		{"record", point(), `{"y":2,"x":1}`, []any{int32(1), int32(2)}},
		{"recordMissingOption", types.RecordOf(
			types.Field{Name: "a", Type: types.StringType},
			types.Field{Name: "b", Type: types.OptionOf(types.StringType)},
		), `{"a":"x"}`, []any{"x", vv{Case: 0}}},
		{"tuple", types.TupleOf(types.StringType, types.BoolType), `["a",false]`, []any{"a", false}},
		{"variantNoPayload", shape, `{"tag":"none"}`, vv{Case: 0}},
		{"variantNoPayloadNullVal", shape, `{"tag":"none","val":null}`, vv{Case: 0}},
		{"variantPayload", shape, `{"val":"hi","tag":"text"}`, vv{Case: 1, Value: "hi"}},
		{"variantOptionPayloadMissing", shape, `{"tag":"maybe"}`, vv{Case: 2, Value: vv{Case: 0}}},
		{"variantOptionPayload", shape, `{"tag":"maybe","val":7}`, vv{Case: 2, Value: vv{Case: 1, Value: uint8(7)}}},
		{"enum", types.EnumOf("red", "green"), `"green"`, vv{Case: 1}},
		{"optionNone", types.OptionOf(types.StringType), `null`, vv{Case: 0}},
		{"optionSome", types.OptionOf(types.StringType), `"x"`, vv{Case: 1, Value: "x"}},
		{"optionOptionNone", types.OptionOf(types.OptionOf(types.U8Type)), `null`, vv{Case: 0}},
		{"optionOptionSomeNone", types.OptionOf(types.OptionOf(types.U8Type)), `{"some":null}`, vv{Case: 1, Value: vv{Case: 0}}},
		{"optionOptionSomeSome", types.OptionOf(types.OptionOf(types.U8Type)), `{"some":5}`, vv{Case: 1, Value: vv{Case: 1, Value: uint8(5)}}},
		{"resultOk", types.ResultOf(types.StringType, types.U8Type), `{"ok":"fine"}`, vv{Case: 0, Value: "fine"}},
		{"resultErr", types.ResultOf(types.StringType, types.U8Type), `{"err":4}`, vv{Case: 1, Value: uint8(4)}},
		{"resultEmptyOk", types.ResultOf(nil, nil), `{"ok":null}`, vv{Case: 0}},
		{"resultEmptyErr", types.ResultOf(nil, types.StringType), `{"err":"bad"}`, vv{Case: 1, Value: "bad"}},
		{"flags", types.FlagsOf("read", "write", "exec"), `["exec","read"]`, uint32(0b101)},
		{"flagsNone", types.FlagsOf("read", "write"), `[]`, uint32(0)},
		{"whitespace", types.ListOf(types.U8Type), " [ 1 , 2 ]\n", []any{uint8(1), uint8(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.t, []byte(tt.json))
			if err != nil {
				t.Fatalf("Decode(%s, %s): %v", tt.t, tt.json, err)
			}
			if !valueEqual(tt.t, got, tt.want) {
				t.Errorf("Decode(%s, %s) = %#v, want %#v", tt.t, tt.json, got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	item := types.RecordOf(types.Field{Name: "name", Type: types.StringType})
	deepJSON := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	deepType := types.StringType
	for range MaxDepth + 2 {
		deepType = types.ListOf(deepType)
	}
	shape := types.VariantOf(types.Case{Name: "none"}, types.Case{Name: "text", Type: types.StringType})
	tests := []struct {
		name string
		t    *types.Type
		json string
		want string
	}{
		{"wrongType", types.StringType, `3`, `value: expected string, got number 3`},
		{"boolFromString", types.BoolType, `"true"`, `value: expected boolean, got string "true"`},
		{"u8OutOfRange", types.U8Type, `300`, `value: 300 is out of range for u8 (0..255)`},
		{"u8Negative", types.U8Type, `-1`, `value: -1 is out of range for u8 (0..255)`},
		{"s8OutOfRange", types.S8Type, `-129`, `value: -129 is out of range for s8 (-128..127)`},
		{"s64OutOfRange", types.S64Type, `9223372036854775808`, `value: 9223372036854775808 is out of range for s64 (-9223372036854775808..9223372036854775807)`},
		{"u64OutOfRange", types.U64Type, `18446744073709551616`, `value: 18446744073709551616 is out of range for u64 (0..18446744073709551615)`},
		{"hugeExponent", types.U64Type, `1e999999999999999999999`, `value: 1e999999999999999999999 is out of range for u64 (0..18446744073709551615)`},
		{"fraction", types.U32Type, `3.5`, `value: expected integer 0..4294967295 (u32), got number 3.5`},
		{"tinyFraction", types.U32Type, `1e-999999999999`, `value: expected integer 0..4294967295 (u32), got number 1e-999999999999`},
		{"integerAsString", types.U32Type, `"3"`, `value: expected integer 0..4294967295 (u32), got string "3"`},
		{"f32Overflow", types.F32Type, `1e39`, `value: number 1e39 is out of range for f32; use "Infinity" or "-Infinity" for infinities`},
		{"f64OtherString", types.F64Type, `"nan"`, `value: expected number (f64) or one of "NaN", "Infinity", "-Infinity", got string "nan"`},
		{"charTwo", types.CharType, `"ab"`, `value: expected a string of one character, got string "ab"`},
		{"charEmpty", types.CharType, `""`, `value: expected a string of one character, got string ""`},
		{"listNotArray", types.ListOf(types.StringType), `{}`, `value: expected array (list<string>), got object`},
		{"listItemPath", types.ListOf(item), `[{"name":"a"},{"name":"b"},{"name":3}]`, `value[2].name: expected string, got number 3`},
		{"bytesBadBase64", types.ListOf(types.U8Type), `"%%"`, `value: expected bytes as an array of integers or a base64 string, got string "%%": illegal base64 data at input byte 0`},
		{"bytesOutOfRange", types.ListOf(types.U8Type), `[1,256]`, `value[1]: 256 is out of range for u8 (0..255)`},
		{"recordMissing", point(), `{"x":1}`, `value: missing required field "y"`},
		{"recordUnknown", point(), `{"x":1,"y":2,"z":3}`, `value: unknown field "z" (expected "x", "y")`},
		{"recordTypo", item, `{"nmae":"a"}`, `value: unknown field "nmae" (did you mean "name"?)`},
		{"recordOddKey", item, `{"name":"a","has space":1}`, `value: unknown field "has space" (expected "name")`},
		{"nestedOddKeyPath", types.ListOf(types.StringType), `[1]`, `value[0]: expected string, got number 1`},
		{"tupleLength", types.TupleOf(types.StringType, types.BoolType), `["a"]`, `value: expected an array of 2 items (tuple<string, bool>), got array of 1 items`},
		{"variantNotObject", shape, `"none"`, `value: expected {"tag": …, "val": …} with tag one of "none", "text", got string "none"`},
		{"variantMissingTag", shape, `{"val":"x"}`, `value: missing "tag": expected one of "none", "text"`},
		{"variantUnknownTag", shape, `{"tag":"txt"}`, `value.tag: expected one of "none", "text", got string "txt" (did you mean "text"?)`},
		{"variantMissingVal", shape, `{"tag":"text"}`, `value: missing "val": case "text" carries a string`},
		{"variantValForNoPayload", shape, `{"tag":"none","val":1}`, `value.val: case "none" has no payload, so "val" must be absent or null, got number 1`},
		{"variantExtraKey", shape, `{"tag":"none","extra":1}`, `value: unknown key "extra" in a variant (expected "tag" and "val")`},
		{"variantBadPayload", shape, `{"tag":"text","val":1}`, `value.val: expected string, got number 1`},
		{"enumUnknown", types.EnumOf("red", "green"), `"gren"`, `value: expected one of "red", "green", got string "gren" (did you mean "green"?)`},
		{"optionOptionBare", types.OptionOf(types.OptionOf(types.U8Type)), `5`, `value: expected null or {"some": …} (option<option<u8>>), got number 5`},
		{"optionBadSome", types.OptionOf(types.U8Type), `"x"`, `value: expected integer 0..255 (u8), got string "x"`},
		{"resultBoth", types.ResultOf(types.StringType, types.StringType), `{"ok":"a","err":"b"}`, `value: expected {"ok": …} or {"err": …} (result<string, string>), got object`},
		{"resultEmptySideNotNull", types.ResultOf(nil, types.StringType), `{"ok":1}`, `value.ok: expected null (this side carries no value), got number 1`},
		{"flagsUnknown", types.FlagsOf("read", "write"), `["read","wirte"]`, `value[1]: expected one of "read", "write", got string "wirte" (did you mean "write"?)`},
		{"flagsTwice", types.FlagsOf("read", "write"), `["read","read"]`, `value[1]: flag "read" is given twice`},
		{"flagsNotArray", types.FlagsOf("read"), `{"read":true}`, `value: expected an array of flag names from "read", got object`},
		{"resource", types.OwnOf(&types.Resource{Name: "file"}), `1`, `value: own<file> is a resource handle and cannot be passed as JSON`},
		{"duplicateKey", point(), `{"x":1,"x":2,"y":3}`, `value: duplicate key "x"`},
		{"duplicateKeyNested", types.ListOf(point()), `[{"x":1,"y":2,"y":2}]`, `value[0]: duplicate key "y"`},
		{"syntax", types.StringType, `"abc`, `value: invalid JSON: unexpected end of input`},
		{"syntaxInside", types.ListOf(types.U8Type), `[1,,2]`, `value[1]: invalid JSON at offset 3: invalid character ',' looking for beginning of value`},
		{"trailingData", types.StringType, `"a" "b"`, `value: invalid JSON: more data after the value, from offset 3`},
		{"empty", types.StringType, ``, `value: no JSON value`},
		{"tooDeep", deepType, deepJSON, fmt.Sprintf(`value%s: JSON nested more than %d levels deep`, strings.Repeat("[0]", MaxDepth), MaxDepth)},
		{"longStringCut", types.U8Type, `"` + strings.Repeat("z", 100) + `"`, `value: expected integer 0..255 (u8), got string "` + strings.Repeat("z", 40) + `"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.t, []byte(tt.json))
			if err == nil {
				t.Fatalf("Decode(%s, %s) = %#v, want error %q", tt.t, tt.json, got, tt.want)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestDecodeArgs(t *testing.T) {
	ft := &types.Func{Params: []types.Param{
		{Name: "path", Type: types.StringType},
		{Name: "count", Type: types.U8Type},
		{Name: "items", Type: types.ListOf(types.RecordOf(types.Field{Name: "name", Type: types.StringType}))},
		{Name: "limit", Type: types.OptionOf(types.U32Type)},
	}}
	noParams := &types.Func{}
	tests := []struct {
		name    string
		ft      *types.Func
		args    string
		want    []any
		wantErr string
	}{
		{name: "all", ft: ft, args: `{"path":"/a","count":3,"items":[{"name":"x"}],"limit":10}`,
			want: []any{"/a", uint8(3), []any{[]any{"x"}}, vv{Case: 1, Value: uint32(10)}}},
		{name: "optionNull", ft: ft, args: `{"path":"/a","count":3,"items":[],"limit":null}`,
			want: []any{"/a", uint8(3), []any{}, vv{Case: 0}}},
		{name: "optionMissing", ft: ft, args: `{"path":"/a","count":3,"items":[]}`,
			want: []any{"/a", uint8(3), []any{}, vv{Case: 0}}},
		{name: "noParamsNull", ft: noParams, args: `null`, want: []any{}},
		{name: "noParamsAbsent", ft: noParams, args: ``, want: []any{}},
		{name: "noParamsEmpty", ft: noParams, args: `{}`, want: []any{}},
		{name: "missing", ft: ft, args: `{"count":3,"items":[]}`,
			wantErr: `arguments: missing required parameter "path"`},
		{name: "nullMeansEmpty", ft: ft, args: `null`,
			wantErr: `arguments: missing required parameter "path"`},
		{name: "unknownTypo", ft: ft, args: `{"pth":"/a","count":3,"items":[]}`,
			wantErr: `arguments: unknown parameter "pth" (did you mean "path"?)`},
		{name: "unknownNoHint", ft: ft, args: `{"path":"/a","count":3,"items":[],"verbose":true}`,
			wantErr: `arguments: unknown parameter "verbose" (expected "path", "count", "items", "limit")`},
		{name: "unknownNoParams", ft: noParams, args: `{"x":1}`,
			wantErr: `arguments: unknown parameter "x"`},
		{name: "outOfRange", ft: ft, args: `{"path":"/a","count":300,"items":[]}`,
			wantErr: `arguments.count: 300 is out of range for u8 (0..255)`},
		{name: "deepPath", ft: ft, args: `{"path":"/a","count":3,"items":[{"name":"a"},{"name":"b"},{"name":3}]}`,
			wantErr: `arguments.items[2].name: expected string, got number 3`},
		{name: "notObject", ft: ft, args: `[1]`,
			wantErr: `arguments: expected an object of parameters, got array of 1 items`},
		{name: "badJSON", ft: ft, args: `{"path":}`,
			wantErr: `arguments.path: invalid JSON at offset 8: invalid character '}' looking for beginning of value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeArgs(tt.ft, []byte(tt.args))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("DecodeArgs(%s) error:\n got %v\nwant %s", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeArgs(%s): %v", tt.args, err)
			}
			params := make([]types.Field, len(tt.ft.Params))
			for i, p := range tt.ft.Params {
				params[i] = types.Field{Name: p.Name, Type: p.Type}
			}
			if !valueEqual(&types.Type{Kind: types.Tuple, Fields: params}, got, tt.want) {
				t.Errorf("DecodeArgs(%s) = %#v, want %#v", tt.args, got, tt.want)
			}
		})
	}
}

// TestDecodeLargeInput decodes a large list. Decoding is linear; were it
// quadratic this test would take minutes. It checks only the result: no
// timing decides pass or fail.
func TestDecodeLargeInput(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", i%256)
	}
	b.WriteByte(']')
	got, err := Decode(types.ListOf(types.U8Type), []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if l := got.([]any); len(l) != n || l[n-1] != uint8((n-1)%256) {
		t.Errorf("decoded %d items ending in %v, want %d ending in %d", len(l), l[len(l)-1], n, (n-1)%256)
	}
}

func TestParseIntegral(t *testing.T) {
	tests := []struct {
		in             string
		neg            bool
		mag            uint64
		integral, fits bool
	}{
		{"0", false, 0, true, true},
		{"-0.0e5", true, 0, true, true},
		{"12", false, 12, true, true},
		{"1.20e1", false, 12, true, true},
		{"120e-1", false, 12, true, true},
		{"121e-1", false, 0, false, false},
		{"0.5", false, 0, false, false},
		{"18446744073709551615", false, math.MaxUint64, true, true},
		{"18446744073709551616", false, 0, true, false},
		{"100000000000000000000", false, 0, true, false},
		{"-9223372036854775808", true, 1 << 63, true, true},
		{"1e20", false, 0, true, false},
		{"1e19", false, 1e19, true, true},
		{"0.00000000000000000000000000001e29", false, 1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			neg, mag, integral, fits := parseIntegral(tt.in)
			if neg != tt.neg || mag != tt.mag || integral != tt.integral || fits != tt.fits {
				t.Errorf("parseIntegral(%q) = %v, %d, %v, %v; want %v, %d, %v, %v",
					tt.in, neg, mag, integral, fits, tt.neg, tt.mag, tt.integral, tt.fits)
			}
		})
	}
}

// TestErrorShortensTypes: an anonymous type prints in full in WIT syntax,
// which for a large one would flood the message a client shows its user.
func TestErrorShortensTypes(t *testing.T) {
	elems := make([]*types.Type, 40)
	for i := range elems {
		elems[i] = types.StringType
	}
	_, err := Decode(types.TupleOf(elems...), []byte(`1`))
	if err == nil {
		t.Fatal("Decode succeeded")
	}
	want := "value: expected an array of 40 items (tuple<string, string, string, string, string, string, string, string, string, st…), got number 1"
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}
