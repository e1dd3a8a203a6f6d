package jsonbridge

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Encode converts a value of type t, in the Go representation the types
// package documents, into its JSON form. A value whose Go type or shape does
// not match t is an *Error (path root "value"), never a panic; a type with no
// JSON form is an *UnrepresentableError.
func Encode(t *types.Type, v any) (json.RawMessage, error) {
	return encode(nil, t, v, rootPath("value"), 0)
}

// EncodeResults converts ft's results into the two forms an MCP tool result
// carries: structured, the object {"result": …} that OutputSchema(ft)
// describes, and text, the copy for the text content item: a single string
// result as it is, anything else as its JSON text. A function with no results
// gives a nil structured and an empty text.
func EncodeResults(ft *types.Func, results []any) (structured json.RawMessage, text string, err error) {
	root := rootPath("result")
	if len(results) != len(ft.Results) {
		return nil, "", root.errorf("%s returns %d values, got %d", ft, len(ft.Results), len(results))
	}
	if len(ft.Results) == 0 {
		return nil, "", nil
	}
	var value []byte
	if len(ft.Results) == 1 && ft.Results[0].Name == "" {
		if value, err = encode(nil, ft.Results[0].Type, results[0], root, 0); err != nil {
			return nil, "", err
		}
		if s, ok := results[0].(string); ok && ft.Results[0].Type.Kind == types.String {
			text = s
		} else {
			text = string(value)
		}
	} else {
		value = append(value, '{')
		for i, r := range ft.Results {
			if i > 0 {
				value = append(value, ',')
			}
			value = appendString(value, r.Name)
			value = append(value, ':')
			if value, err = encode(value, r.Type, results[i], root.field(r.Name), 0); err != nil {
				return nil, "", err
			}
		}
		value = append(value, '}')
		text = string(value)
	}
	out := make([]byte, 0, len(value)+len(`{"result":}`))
	out = append(out, `{"result":`...)
	out = append(out, value...)
	out = append(out, '}')
	return out, text, nil
}

// encode appends the JSON form of v to b.
func encode(b []byte, t *types.Type, v any, p *path, depth int) ([]byte, error) {
	if t == nil {
		return nil, p.errorf("the type is missing (nil)")
	}
	if depth > MaxDepth {
		return nil, &UnrepresentableError{Path: p.String(), Type: t,
			Reason: fmt.Sprintf("it is nested more than %d levels deep", MaxDepth)}
	}
	mismatch := func() error {
		return p.errorf("a %s needs a Go %s, got %T", t.Kind, goTypeFor(t.Kind), v)
	}
	switch t.Kind {
	case types.Bool:
		x, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		return strconv.AppendBool(b, x), nil
	case types.S8, types.S16, types.S32, types.S64:
		x, ok := signedValue(t.Kind, v)
		if !ok {
			return nil, mismatch()
		}
		return strconv.AppendInt(b, x, 10), nil
	case types.U8, types.U16, types.U32, types.U64:
		x, ok := unsignedValue(t.Kind, v)
		if !ok {
			return nil, mismatch()
		}
		return strconv.AppendUint(b, x, 10), nil
	case types.F32:
		x, ok := v.(float32)
		if !ok {
			return nil, mismatch()
		}
		return appendFloat(b, float64(x), 32), nil
	case types.F64:
		x, ok := v.(float64)
		if !ok {
			return nil, mismatch()
		}
		return appendFloat(b, x, 64), nil
	case types.Char:
		r, ok := v.(rune)
		if !ok {
			return nil, mismatch()
		}
		if !utf8.ValidRune(r) {
			return nil, p.errorf("char %#x is not a Unicode scalar value", r)
		}
		return appendString(b, string(r)), nil
	case types.String:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		if !utf8.ValidString(s) {
			return nil, p.errorf("string is not valid UTF-8")
		}
		return appendString(b, s), nil
	case types.List:
		elems, ok := v.([]any)
		if !ok {
			return nil, mismatch()
		}
		b = append(b, '[')
		for i, e := range elems {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = encode(b, t.Elem, e, p.at(i), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case types.Record, types.Tuple:
		fields, ok := v.([]any)
		if !ok {
			return nil, mismatch()
		}
		if len(fields) != len(t.Fields) {
			return nil, p.errorf("%s has %d fields, got %d values", shortType(t), len(t.Fields), len(fields))
		}
		open, close := byte('{'), byte('}')
		if t.Kind == types.Tuple {
			open, close = '[', ']'
		}
		b = append(b, open)
		for i, f := range t.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			fp := p.at(i)
			if t.Kind == types.Record {
				b = appendString(b, f.Name)
				b = append(b, ':')
				fp = p.field(f.Name)
			}
			var err error
			if b, err = encode(b, f.Type, fields[i], fp, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, close), nil
	case types.Variant, types.Enum, types.Option, types.Result:
		x, ok := v.(types.VariantValue)
		if !ok {
			return nil, mismatch()
		}
		return encodeCase(b, t, x, p, depth)
	case types.Flags:
		bits, ok := v.(uint32)
		if !ok {
			return nil, mismatch()
		}
		if len(t.Labels) > 32 {
			return nil, &UnrepresentableError{Path: p.String(), Type: t,
				Reason: fmt.Sprintf("it has %d flags and WASI 0.2 allows at most 32", len(t.Labels))}
		}
		if len(t.Labels) < 32 && bits>>len(t.Labels) != 0 {
			return nil, p.errorf("flags value %#x sets bits beyond the %d flags of %s", bits, len(t.Labels), shortType(t))
		}
		b = append(b, '[')
		first := true
		for i, l := range t.Labels {
			if bits&(1<<i) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, l)
		}
		return append(b, ']'), nil
	case types.Own, types.Borrow:
		return nil, &UnrepresentableError{Path: p.String(), Type: t,
			Reason: "it is a resource handle, which only exists inside a running instance"}
	}
	return nil, p.errorf("unknown type kind %s", t.Kind)
}

// encodeCase writes a variant, enum, option or result value.
func encodeCase(b []byte, t *types.Type, x types.VariantValue, p *path, depth int) ([]byte, error) {
	var err error
	switch t.Kind {
	case types.Variant:
		if int64(x.Case) >= int64(len(t.Cases)) {
			return nil, p.errorf("case %d is out of range: %s has %d cases", x.Case, shortType(t), len(t.Cases))
		}
		c := t.Cases[x.Case]
		b = append(b, `{"tag":`...)
		b = appendString(b, c.Name)
		if c.Type == nil {
			if x.Value != nil {
				return nil, p.errorf("case %q has no payload, got a %T", c.Name, x.Value)
			}
			return append(b, '}'), nil
		}
		b = append(b, `,"val":`...)
		if b, err = encode(b, c.Type, x.Value, p.field("val"), depth+1); err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	case types.Enum:
		if int64(x.Case) >= int64(len(t.Labels)) {
			return nil, p.errorf("case %d is out of range: %s has %d cases", x.Case, shortType(t), len(t.Labels))
		}
		if x.Value != nil {
			return nil, p.errorf("an enum case has no payload, got a %T", x.Value)
		}
		return appendString(b, t.Labels[x.Case]), nil
	case types.Option:
		switch x.Case {
		case 0:
			if x.Value != nil {
				return nil, p.errorf("none has no payload, got a %T", x.Value)
			}
			return append(b, "null"...), nil
		case 1:
			if t.Elem == nil || t.Elem.Kind != types.Option {
				return encode(b, t.Elem, x.Value, p, depth+1)
			}
			b = append(b, `{"some":`...)
			if b, err = encode(b, t.Elem, x.Value, p.field("some"), depth+1); err != nil {
				return nil, err
			}
			return append(b, '}'), nil
		}
		return nil, p.errorf("case %d is out of range for an option (0 none, 1 some)", x.Case)
	}
	// Result.
	if x.Case > 1 {
		return nil, p.errorf("case %d is out of range for a result (0 ok, 1 err)", x.Case)
	}
	key, side := "ok", t.OK
	if x.Case == 1 {
		key, side = "err", t.Err
	}
	b = append(b, '{')
	b = appendString(b, key)
	b = append(b, ':')
	if side == nil {
		if x.Value != nil {
			return nil, p.field(key).errorf("this side carries no value, got a %T", x.Value)
		}
		b = append(b, "null"...)
	} else if b, err = encode(b, side, x.Value, p.field(key), depth+1); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendFloat writes f as encoding/json does (shortest exact form, exponent
// only for very large or small magnitudes), and the values JSON lacks as
// the strings the package doc names.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return appendString(b, nanString)
	case math.IsInf(f, 1):
		return appendString(b, posInfString)
	case math.IsInf(f, -1):
		return appendString(b, negInfString)
	}
	var out []byte
	if bits == 32 {
		out, _ = json.Marshal(float32(f)) // cannot fail for a finite number
	} else {
		out, _ = json.Marshal(f)
	}
	return append(b, out...)
}

// appendString writes s, which must be valid UTF-8, as a JSON string,
// escaping only what JSON requires (no HTML escaping).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// signedValue returns v as an int64 when its Go type is the one for kind k.
func signedValue(k types.Kind, v any) (int64, bool) {
	switch y := v.(type) {
	case int8:
		return int64(y), k == types.S8
	case int16:
		return int64(y), k == types.S16
	case int32:
		return int64(y), k == types.S32
	case int64:
		return y, k == types.S64
	}
	return 0, false
}

// unsignedValue returns v as a uint64 when its Go type is the one for kind k.
func unsignedValue(k types.Kind, v any) (uint64, bool) {
	switch y := v.(type) {
	case uint8:
		return uint64(y), k == types.U8
	case uint16:
		return uint64(y), k == types.U16
	case uint32:
		return uint64(y), k == types.U32
	case uint64:
		return y, k == types.U64
	}
	return 0, false
}

// goTypeFor names the Go type that carries values of kind k.
func goTypeFor(k types.Kind) string {
	switch k {
	case types.Bool:
		return "bool"
	case types.S8:
		return "int8"
	case types.S16:
		return "int16"
	case types.S32:
		return "int32"
	case types.S64:
		return "int64"
	case types.U8:
		return "uint8"
	case types.U16:
		return "uint16"
	case types.U32:
		return "uint32"
	case types.U64:
		return "uint64"
	case types.F32:
		return "float32"
	case types.F64:
		return "float64"
	case types.Char:
		return "rune"
	case types.String:
		return "string"
	case types.List, types.Record, types.Tuple:
		return "[]any"
	case types.Variant, types.Enum, types.Option, types.Result:
		return "types.VariantValue"
	case types.Flags:
		return "uint32"
	}
	return "types.Handle"
}
