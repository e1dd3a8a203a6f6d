package jsonbridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// DecodeArgs converts the arguments object of a tools/call into ft's
// parameter values, in parameter order, in the Go representation the types
// package documents. Absent or null arguments mean {}. Every failure is an
// *Error whose Path starts with "arguments", such as
// `arguments.items[2].name: expected string, got number 3` or
// `arguments: unknown parameter "pth" (did you mean "path"?)`.
func DecodeArgs(ft *types.Func, args json.RawMessage) ([]any, error) {
	root := rootPath("arguments")
	n := &node{kind: jsonObject}
	if len(bytes.TrimSpace(args)) > 0 {
		var err error
		if n, err = parseJSON(args, root); err != nil {
			return nil, err
		}
		if n.kind == jsonNull {
			n = &node{kind: jsonObject}
		}
	}
	if n.kind != jsonObject {
		return nil, root.errorf("expected an object of parameters, got %s", n.describe())
	}
	fields := make([]types.Field, len(ft.Params))
	for i, p := range ft.Params {
		fields[i] = types.Field{Name: p.Name, Type: p.Type}
	}
	return decodeFields(fields, n, root, "parameter")
}

// Decode converts one JSON value into a value of type t. Failures are
// *Error values whose Path starts with "value".
func Decode(t *types.Type, v json.RawMessage) (any, error) {
	root := rootPath("value")
	if len(bytes.TrimSpace(v)) == 0 {
		return nil, root.errorf("no JSON value")
	}
	n, err := parseJSON(v, root)
	if err != nil {
		return nil, err
	}
	return decode(t, n, root)
}

func decode(t *types.Type, n *node, p *path) (any, error) {
	if t == nil {
		return nil, p.errorf("the type is missing (nil)")
	}
	switch t.Kind {
	case types.Bool:
		if n.kind != jsonBool {
			return nil, p.errorf("expected boolean, got %s", n.describe())
		}
		return n.boolean, nil
	case types.S8, types.S16, types.S32, types.S64, types.U8, types.U16, types.U32, types.U64:
		return decodeInt(t.Kind, n, p)
	case types.F32, types.F64:
		return decodeFloat(t.Kind, n, p)
	case types.Char:
		if n.kind != jsonString || utf8.RuneCountInString(n.text) != 1 {
			return nil, p.errorf("expected a string of one character, got %s", n.describe())
		}
		r, _ := utf8.DecodeRuneInString(n.text)
		return r, nil
	case types.String:
		if n.kind != jsonString {
			return nil, p.errorf("expected string, got %s", n.describe())
		}
		return n.text, nil
	case types.List:
		return decodeList(t, n, p)
	case types.Record:
		if n.kind != jsonObject {
			return nil, p.errorf("expected object (%s), got %s", shortType(t), n.describe())
		}
		return decodeFields(t.Fields, n, p, "field")
	case types.Tuple:
		if n.kind != jsonArray || len(n.elems) != len(t.Fields) {
			return nil, p.errorf("expected an array of %d items (%s), got %s", len(t.Fields), shortType(t), n.describe())
		}
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			v, err := decode(f.Type, n.elems[i], p.at(i))
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case types.Variant:
		return decodeVariant(t, n, p)
	case types.Enum:
		if n.kind == jsonString {
			for i, l := range t.Labels {
				if l == n.text {
					return types.VariantValue{Case: uint32(i)}, nil
				}
			}
		}
		return nil, p.errorf("expected one of %s, got %s%s", listNames(t.Labels), n.describe(), didYouMean(n, t.Labels))
	case types.Option:
		return decodeOption(t, n, p)
	case types.Result:
		return decodeResult(t, n, p)
	case types.Flags:
		return decodeFlags(t, n, p)
	case types.Own, types.Borrow:
		return nil, p.errorf("%s is a resource handle and cannot be passed as JSON", shortType(t))
	}
	return nil, p.errorf("unknown type kind %s", t.Kind)
}

func decodeInt(k types.Kind, n *node, p *path) (any, error) {
	r := intRangeOf(k)
	if n.kind != jsonNumber {
		return nil, p.errorf("expected integer %s (%s), got %s", r, k, n.describe())
	}
	neg, mag, integral, fits := parseIntegral(n.text)
	if !integral {
		return nil, p.errorf("expected integer %s (%s), got %s", r, k, n.describe())
	}
	if r.signed {
		limit := uint64(r.max)
		if neg {
			limit++
		}
		fits = fits && mag <= limit
	} else {
		fits = fits && (mag == 0 || !neg) && mag <= r.umax
	}
	if !fits {
		text := n.text
		if len(text) > maxQuoted {
			text = text[:maxQuoted] + "…"
		}
		return nil, p.errorf("%s is out of range for %s (%s)", text, k, r)
	}
	v := int64(mag)
	if neg {
		v = int64(-mag) // two's complement: also right for 1<<63
	}
	switch k {
	case types.S8:
		return int8(v), nil
	case types.S16:
		return int16(v), nil
	case types.S32:
		return int32(v), nil
	case types.S64:
		return v, nil
	case types.U8:
		return uint8(mag), nil
	case types.U16:
		return uint16(mag), nil
	case types.U32:
		return uint32(mag), nil
	}
	return mag, nil
}

// exponentCap saturates a parsed exponent. Any input is far shorter than
// 2^50 bytes, so a capped exponent still puts the decimal point beyond
// every digit the input can hold, and the verdict stays right.
const exponentCap = 1 << 50

// parseIntegral reads a JSON number exactly. It reports the sign and
// magnitude, whether the value is an integer (3.0 and 3e2 are), and whether
// the magnitude fits in a uint64. s must be valid JSON number syntax.
func parseIntegral(s string) (neg bool, mag uint64, integral, fits bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mantissa, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa = s[:i]
		e := s[i+1:]
		sign := int64(1)
		if e != "" && (e[0] == '+' || e[0] == '-') {
			if e[0] == '-' {
				sign = -1
			}
			e = e[1:]
		}
		for _, c := range []byte(e) {
			exp = min(exp*10+int64(c-'0'), exponentCap)
		}
		exp *= sign
	}
	intPart, frac := mantissa, ""
	if i := strings.IndexByte(mantissa, '.'); i >= 0 {
		intPart, frac = mantissa[:i], mantissa[i+1:]
	}
	digits := intPart + frac
	point := int64(len(intPart)) + exp // how many of digits stand before the decimal point
	lead := 0
	for lead < len(digits) && digits[lead] == '0' {
		lead++
	}
	digits, point = digits[lead:], point-int64(lead)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return neg, 0, true, true
	}
	if point < int64(len(digits)) {
		return neg, 0, false, false
	}
	if point > 20 { // more digits than any uint64 has
		return neg, 0, true, false
	}
	for i := int64(0); i < point; i++ {
		d := uint64(0)
		if i < int64(len(digits)) {
			d = uint64(digits[i] - '0')
		}
		if mag > (math.MaxUint64-d)/10 {
			return neg, 0, true, false
		}
		mag = mag*10 + d
	}
	return neg, mag, true, true
}

func decodeFloat(k types.Kind, n *node, p *path) (any, error) {
	bits := 64
	if k == types.F32 {
		bits = 32
	}
	var f float64
	switch {
	case n.kind == jsonString && n.text == nanString:
		f = math.NaN()
	case n.kind == jsonString && n.text == posInfString:
		f = math.Inf(1)
	case n.kind == jsonString && n.text == negInfString:
		f = math.Inf(-1)
	case n.kind == jsonNumber:
		var err error
		f, err = strconv.ParseFloat(n.text, bits)
		if err != nil && math.IsInf(f, 0) {
			return nil, p.errorf("%s is out of range for %s; use \"Infinity\" or \"-Infinity\" for infinities", n.describe(), k)
		}
	default:
		return nil, p.errorf(`expected number (%s) or one of "NaN", "Infinity", "-Infinity", got %s`, k, n.describe())
	}
	if k == types.F32 {
		return float32(f), nil
	}
	return f, nil
}

func decodeList(t *types.Type, n *node, p *path) (any, error) {
	if t.Elem != nil && t.Elem.Kind == types.U8 && n.kind == jsonString {
		enc := base64.RawStdEncoding
		if strings.HasSuffix(n.text, "=") {
			enc = base64.StdEncoding
		}
		raw, err := enc.DecodeString(n.text)
		if err != nil {
			return nil, p.errorf("expected bytes as an array of integers or a base64 string, got %s: %v", n.describe(), err)
		}
		out := make([]any, len(raw))
		for i, b := range raw {
			out[i] = b
		}
		return out, nil
	}
	if n.kind != jsonArray {
		if t.Elem != nil && t.Elem.Kind == types.U8 {
			return nil, p.errorf("expected bytes as an array of integers or a base64 string, got %s", n.describe())
		}
		return nil, p.errorf("expected array (%s), got %s", shortType(t), n.describe())
	}
	out := make([]any, len(n.elems))
	for i, e := range n.elems {
		v, err := decode(t.Elem, e, p.at(i))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// decodeFields reads a record's fields, or a function's parameters, from an
// object; what names the members in messages ("field", "parameter").
func decodeFields(fields []types.Field, n *node, p *path, what string) ([]any, error) {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	for _, m := range n.members {
		if !contains(names, m.key) {
			hint := ""
			if c, ok := closest(m.key, unused(names, n)); ok {
				hint = " (did you mean " + strconv.Quote(c) + "?)"
			} else if len(names) > 0 {
				hint = " (expected " + listNames(names) + ")"
			}
			return nil, p.errorf("unknown %s %s%s", what, quoteShort(m.key), hint)
		}
	}
	out := make([]any, len(fields))
	for i, f := range fields {
		v, ok := n.get(f.Name)
		if !ok {
			if f.Type != nil && f.Type.Kind == types.Option {
				out[i] = types.VariantValue{Case: 0}
				continue
			}
			return nil, p.errorf("missing required %s %s", what, strconv.Quote(f.Name))
		}
		val, err := decode(f.Type, v, p.field(f.Name))
		if err != nil {
			return nil, err
		}
		out[i] = val
	}
	return out, nil
}

func decodeVariant(t *types.Type, n *node, p *path) (any, error) {
	caseNames := make([]string, len(t.Cases))
	for i, c := range t.Cases {
		caseNames[i] = c.Name
	}
	if n.kind != jsonObject {
		return nil, p.errorf(`expected {"tag": …, "val": …} with tag one of %s, got %s`, listNames(caseNames), n.describe())
	}
	for _, m := range n.members {
		if m.key != "tag" && m.key != "val" {
			return nil, p.errorf(`unknown key %s in a variant (expected "tag" and "val")`, quoteShort(m.key))
		}
	}
	tag, ok := n.get("tag")
	if !ok {
		return nil, p.errorf(`missing "tag": expected one of %s`, listNames(caseNames))
	}
	idx := -1
	if tag.kind == jsonString {
		for i, c := range t.Cases {
			if c.Name == tag.text {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		return nil, p.field("tag").errorf("expected one of %s, got %s%s", listNames(caseNames), tag.describe(), didYouMean(tag, caseNames))
	}
	c := t.Cases[idx]
	val, hasVal := n.get("val")
	if c.Type == nil {
		if hasVal && val.kind != jsonNull {
			return nil, p.field("val").errorf("case %q has no payload, so \"val\" must be absent or null, got %s", c.Name, val.describe())
		}
		return types.VariantValue{Case: uint32(idx)}, nil
	}
	if !hasVal {
		if c.Type.Kind == types.Option {
			return types.VariantValue{Case: uint32(idx), Value: types.VariantValue{Case: 0}}, nil
		}
		return nil, p.errorf("missing \"val\": case %q carries a %s", c.Name, shortType(c.Type))
	}
	v, err := decode(c.Type, val, p.field("val"))
	if err != nil {
		return nil, err
	}
	return types.VariantValue{Case: uint32(idx), Value: v}, nil
}

func decodeOption(t *types.Type, n *node, p *path) (any, error) {
	if n.kind == jsonNull {
		return types.VariantValue{Case: 0}, nil
	}
	if t.Elem == nil || t.Elem.Kind != types.Option {
		v, err := decode(t.Elem, n, p)
		if err != nil {
			return nil, err
		}
		return types.VariantValue{Case: 1, Value: v}, nil
	}
	// option<option<…>>: some is wrapped, see the package doc.
	if n.kind != jsonObject || len(n.members) != 1 || n.members[0].key != "some" {
		return nil, p.errorf(`expected null or {"some": …} (%s), got %s`, shortType(t), n.describe())
	}
	v, err := decode(t.Elem, n.members[0].val, p.field("some"))
	if err != nil {
		return nil, err
	}
	return types.VariantValue{Case: 1, Value: v}, nil
}

func decodeResult(t *types.Type, n *node, p *path) (any, error) {
	if n.kind != jsonObject || len(n.members) != 1 || (n.members[0].key != "ok" && n.members[0].key != "err") {
		return nil, p.errorf(`expected {"ok": …} or {"err": …} (%s), got %s`, shortType(t), n.describe())
	}
	key, val := n.members[0].key, n.members[0].val
	side, c := t.OK, uint32(0)
	if key == "err" {
		side, c = t.Err, 1
	}
	if side == nil {
		if val.kind != jsonNull {
			return nil, p.field(key).errorf("expected null (this side carries no value), got %s", val.describe())
		}
		return types.VariantValue{Case: c}, nil
	}
	v, err := decode(side, val, p.field(key))
	if err != nil {
		return nil, err
	}
	return types.VariantValue{Case: c, Value: v}, nil
}

func decodeFlags(t *types.Type, n *node, p *path) (any, error) {
	if len(t.Labels) > 32 {
		return nil, p.errorf("%s has %d flags and WASI 0.2 allows at most 32", shortType(t), len(t.Labels))
	}
	if n.kind != jsonArray {
		return nil, p.errorf("expected an array of flag names from %s, got %s", listNames(t.Labels), n.describe())
	}
	var bits uint32
	for i, e := range n.elems {
		idx := -1
		if e.kind == jsonString {
			for j, l := range t.Labels {
				if l == e.text {
					idx = j
					break
				}
			}
		}
		if idx < 0 {
			return nil, p.at(i).errorf("expected one of %s, got %s%s", listNames(t.Labels), e.describe(), didYouMean(e, t.Labels))
		}
		if bits&(1<<idx) != 0 {
			return nil, p.at(i).errorf("flag %q is given twice", e.text)
		}
		bits |= 1 << idx
	}
	return bits, nil
}

func contains(names []string, s string) bool {
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}

// unused returns the names that object n does not have as keys: the likely
// intended spellings of a key that matches none.
func unused(names []string, n *node) []string {
	var out []string
	for _, name := range names {
		if _, ok := n.get(name); !ok {
			out = append(out, name)
		}
	}
	return out
}

func didYouMean(n *node, names []string) string {
	if n.kind != jsonString {
		return ""
	}
	if c, ok := closest(n.text, names); ok {
		return " (did you mean " + strconv.Quote(c) + "?)"
	}
	return ""
}

// maxListed bounds how many names an error message lists.
const maxListed = 12

// listNames renders names as `"a", "b", "c"` for messages.
func listNames(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, n := range names {
		if i == maxListed {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}
