package jsonbridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// MaxDepth is how deeply JSON arrays and objects, and component types, may
// nest. Deeper input is refused with an *Error, deeper types with an
// *UnrepresentableError. Real WIT types stay far below it; the limit exists so
// that a hostile argument cannot make conversion recurse without bound.
const MaxDepth = 128

// maxSchemaNodes bounds the size of one schema. A type that uses a record
// of a record of … twice at every level is small in a component binary but
// exponential once written out as a tree.
const maxSchemaNodes = 1 << 16

// The strings that stand for the float values JSON has no number for.
const (
	nanString    = "NaN"
	posInfString = "Infinity"
	negInfString = "-Infinity"
)

// bytesDescription documents the two accepted forms of list<u8> in its schema.
const bytesDescription = "bytes: an array of integers 0..255, or a base64 string (standard alphabet, padding optional)"

// Schema returns the JSON Schema (draft 2020-12 keywords) of values of type t.
// The output is deterministic: object keys are sorted, so schemas can be
// compared byte for byte. It fails with an *UnrepresentableError when t
// contains a resource handle or exceeds the limits in the package doc.
func Schema(t *types.Type) (json.RawMessage, error) {
	var b schemaBuilder
	s, err := b.schema(t, rootPath("value"), 0)
	if err != nil {
		return nil, err
	}
	return marshalSchema(s)
}

// InputSchema returns the MCP inputSchema of ft: an object with one property
// per parameter, all required, and no others. A parameter of option type
// accepts null. It fails with an *UnrepresentableError, naming the parameter,
// when a parameter has no JSON form; the function then cannot be a tool.
func InputSchema(ft *types.Func) (json.RawMessage, error) {
	var b schemaBuilder
	root := rootPath("arguments")
	props := make(map[string]any, len(ft.Params))
	required := make([]string, 0, len(ft.Params))
	for _, p := range ft.Params {
		s, err := b.schema(p.Type, root.field(p.Name), 0)
		if err != nil {
			return nil, err
		}
		props[p.Name] = s
		required = append(required, p.Name)
	}
	return marshalSchema(objectSchema(props, required))
}

// OutputSchema returns the MCP outputSchema of ft, or nil when ft returns
// nothing. The structured result is always an object with one property,
// "result": the single result's value, or, for named results, an object with
// one property per result name (all required, no others).
func OutputSchema(ft *types.Func) (json.RawMessage, error) {
	if len(ft.Results) == 0 {
		return nil, nil
	}
	var b schemaBuilder
	root := rootPath("result")
	var result map[string]any
	if len(ft.Results) == 1 && ft.Results[0].Name == "" {
		s, err := b.schema(ft.Results[0].Type, root, 0)
		if err != nil {
			return nil, err
		}
		result = s
	} else {
		props := make(map[string]any, len(ft.Results))
		required := make([]string, 0, len(ft.Results))
		for _, r := range ft.Results {
			s, err := b.schema(r.Type, root.field(r.Name), 0)
			if err != nil {
				return nil, err
			}
			props[r.Name] = s
			required = append(required, r.Name)
		}
		result = objectSchema(props, required)
	}
	return marshalSchema(map[string]any{
		"type":       "object",
		"properties": map[string]any{"result": result},
		"required":   []string{"result"},
	})
}

// schemaBuilder builds one schema, counting its nodes against maxSchemaNodes.
type schemaBuilder struct {
	nodes int
}

func (b *schemaBuilder) schema(t *types.Type, p *path, depth int) (map[string]any, error) {
	if t == nil {
		return nil, &UnrepresentableError{Path: p.String(), Type: t, Reason: "the type is missing (nil)"}
	}
	if depth > MaxDepth {
		return nil, &UnrepresentableError{Path: p.String(), Type: t,
			Reason: fmt.Sprintf("it is nested more than %d levels deep", MaxDepth)}
	}
	b.nodes++
	if b.nodes > maxSchemaNodes {
		return nil, &UnrepresentableError{Path: p.String(), Type: t,
			Reason: fmt.Sprintf("its schema would have more than %d nodes", maxSchemaNodes)}
	}
	s, err := b.schemaOf(t, p, depth)
	if err != nil {
		return nil, err
	}
	if t.Name != "" {
		s["title"] = t.Name
	}
	return s, nil
}

func (b *schemaBuilder) schemaOf(t *types.Type, p *path, depth int) (map[string]any, error) {
	switch t.Kind {
	case types.Bool:
		return map[string]any{"type": "boolean"}, nil
	case types.S8, types.S16, types.S32, types.S64, types.U8, types.U16, types.U32, types.U64:
		r := intRangeOf(t.Kind)
		var lo, hi any = r.min, r.max
		if !r.signed {
			lo, hi = uint64(0), r.umax
		}
		return map[string]any{"type": "integer", "minimum": lo, "maximum": hi}, nil
	case types.F32, types.F64:
		return map[string]any{"anyOf": []any{
			map[string]any{"type": "number"},
			map[string]any{"type": "string", "enum": []string{nanString, posInfString, negInfString}},
		}}, nil
	case types.Char:
		return map[string]any{"type": "string", "minLength": 1, "maxLength": 1,
			"description": "one Unicode character"}, nil
	case types.String:
		return map[string]any{"type": "string"}, nil
	case types.List:
		items, err := b.schema(t.Elem, p.at(0), depth+1)
		if err != nil {
			return nil, err
		}
		array := map[string]any{"type": "array", "items": items}
		if t.Elem.Kind != types.U8 {
			return array, nil
		}
		return map[string]any{
			"description": bytesDescription,
			"anyOf": []any{array, map[string]any{
				"type": "string", "contentEncoding": "base64",
			}},
		}, nil
	case types.Record:
		props := make(map[string]any, len(t.Fields))
		required := make([]string, 0, len(t.Fields))
		for _, f := range t.Fields {
			s, err := b.schema(f.Type, p.field(f.Name), depth+1)
			if err != nil {
				return nil, err
			}
			props[f.Name] = s
			required = append(required, f.Name)
		}
		return objectSchema(props, required), nil
	case types.Tuple:
		items := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			s, err := b.schema(f.Type, p.at(i), depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = s
		}
		return map[string]any{"type": "array", "prefixItems": items,
			"minItems": len(items), "maxItems": len(items)}, nil
	case types.Variant:
		if len(t.Cases) == 0 {
			return map[string]any{"not": map[string]any{}}, nil
		}
		cases := make([]any, len(t.Cases))
		for i, c := range t.Cases {
			props := map[string]any{"tag": map[string]any{"const": c.Name}}
			required := []string{"tag"}
			if c.Type != nil {
				s, err := b.schema(c.Type, p.field("val"), depth+1)
				if err != nil {
					return nil, err
				}
				props["val"] = s
				required = append(required, "val")
			}
			cases[i] = objectSchema(props, required)
		}
		return map[string]any{"oneOf": cases}, nil
	case types.Enum:
		if len(t.Labels) == 0 {
			return map[string]any{"not": map[string]any{}}, nil
		}
		return map[string]any{"type": "string", "enum": t.Labels}, nil
	case types.Option:
		some, err := b.schema(t.Elem, p, depth+1)
		if err != nil {
			return nil, err
		}
		if t.Elem.Kind == types.Option {
			some = objectSchema(map[string]any{"some": some}, []string{"some"})
		}
		return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, some}}, nil
	case types.Result:
		sides := make([]any, 0, 2)
		for _, side := range []struct {
			key string
			t   *types.Type
		}{{"ok", t.OK}, {"err", t.Err}} {
			s := map[string]any{"type": "null"}
			if side.t != nil {
				var err error
				if s, err = b.schema(side.t, p.field(side.key), depth+1); err != nil {
					return nil, err
				}
			}
			sides = append(sides, objectSchema(map[string]any{side.key: s}, []string{side.key}))
		}
		return map[string]any{"oneOf": sides}, nil
	case types.Flags:
		if len(t.Labels) > 32 {
			return nil, &UnrepresentableError{Path: p.String(), Type: t,
				Reason: fmt.Sprintf("it has %d flags and WASI 0.2 allows at most 32", len(t.Labels))}
		}
		if len(t.Labels) == 0 {
			return map[string]any{"type": "array", "maxItems": 0}, nil
		}
		return map[string]any{"type": "array", "uniqueItems": true,
			"items": map[string]any{"type": "string", "enum": t.Labels}}, nil
	case types.Own, types.Borrow:
		return nil, &UnrepresentableError{Path: p.String(), Type: t,
			Reason: "it is a resource handle, which only exists inside a running instance"}
	}
	return nil, &UnrepresentableError{Path: p.String(), Type: t, Reason: "unknown type kind"}
}

// objectSchema is a closed object: the given properties, the given ones
// required, no others.
func objectSchema(props map[string]any, required []string) map[string]any {
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// marshalSchema writes s compactly with sorted keys; HTML escaping is off so
// that "list<u8>" stays readable in descriptions.
func marshalSchema(s map[string]any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("jsonbridge: writing schema: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// intRange is the range of one integer type.
type intRange struct {
	signed   bool
	min, max int64  // signed types
	umax     uint64 // unsigned types
}

// intRangeOf returns the range of integer kind k.
func intRangeOf(k types.Kind) intRange {
	switch k {
	case types.S8:
		return intRange{signed: true, min: math.MinInt8, max: math.MaxInt8}
	case types.S16:
		return intRange{signed: true, min: math.MinInt16, max: math.MaxInt16}
	case types.S32:
		return intRange{signed: true, min: math.MinInt32, max: math.MaxInt32}
	case types.S64:
		return intRange{signed: true, min: math.MinInt64, max: math.MaxInt64}
	case types.U8:
		return intRange{umax: math.MaxUint8}
	case types.U16:
		return intRange{umax: math.MaxUint16}
	case types.U32:
		return intRange{umax: math.MaxUint32}
	}
	return intRange{umax: math.MaxUint64}
}

func (r intRange) String() string {
	if r.signed {
		return fmt.Sprintf("%d..%d", r.min, r.max)
	}
	return fmt.Sprintf("0..%d", r.umax)
}
