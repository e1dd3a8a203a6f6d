package jsonbridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"testing"
	"unicode/utf8"
)

// validate checks instance against schema with a small JSON Schema checker
// that knows exactly the keywords this package emits, and fails on any other
// keyword so that a new one cannot slip past the tests unchecked.
func validate(schema, instance []byte) error {
	s, err := decodeUseNumber(schema)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	v, err := decodeUseNumber(instance)
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	return validateValue(s, v, "$")
}

func decodeUseNumber(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func validateValue(schema, v any, at string) error {
	s, ok := schema.(map[string]any)
	if !ok {
		if b, isBool := schema.(bool); isBool {
			if b {
				return nil
			}
			return fmt.Errorf("%s: schema false allows nothing", at)
		}
		return fmt.Errorf("%s: schema is a %T", at, schema)
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := checkKeyword(k, s[k], s, v, at); err != nil {
			return err
		}
	}
	return nil
}

func checkKeyword(k string, kv any, s map[string]any, v any, at string) error {
	switch k {
	case "title", "description", "contentEncoding":
		if k == "contentEncoding" {
			if str, ok := v.(string); ok {
				if _, err := base64.RawStdEncoding.DecodeString(trimPad(str)); err != nil {
					return fmt.Errorf("%s: not base64: %v", at, err)
				}
			}
		}
		return nil
	case "type":
		if !hasType(kv.(string), v) {
			return fmt.Errorf("%s: %v is not of type %s", at, v, kv)
		}
	case "minimum", "maximum":
		n, ok := v.(json.Number)
		if !ok {
			return nil
		}
		x, _ := new(big.Rat).SetString(string(n))
		lim, _ := new(big.Rat).SetString(string(kv.(json.Number)))
		if c := x.Cmp(lim); (k == "minimum" && c < 0) || (k == "maximum" && c > 0) {
			return fmt.Errorf("%s: %s violates %s %s", at, n, k, kv)
		}
	case "minLength", "maxLength":
		str, ok := v.(string)
		if !ok {
			return nil
		}
		lim, _ := kv.(json.Number).Int64()
		n := int64(utf8.RuneCountInString(str))
		if (k == "minLength" && n < lim) || (k == "maxLength" && n > lim) {
			return fmt.Errorf("%s: length %d violates %s %d", at, n, k, lim)
		}
	case "enum":
		for _, e := range kv.([]any) {
			if reflect.DeepEqual(e, v) {
				return nil
			}
		}
		return fmt.Errorf("%s: %v not in enum %v", at, v, kv)
	case "const":
		if !reflect.DeepEqual(kv, v) {
			return fmt.Errorf("%s: %v is not const %v", at, v, kv)
		}
	case "anyOf", "oneOf":
		matches := 0
		var errs []error
		for _, sub := range kv.([]any) {
			if err := validateValue(sub, v, at); err != nil {
				errs = append(errs, err)
			} else {
				matches++
			}
		}
		if matches == 0 || (k == "oneOf" && matches > 1) {
			return fmt.Errorf("%s: %d of %s match: %v", at, matches, k, errs)
		}
	case "not":
		if validateValue(kv, v, at) == nil {
			return fmt.Errorf("%s: matches a not", at)
		}
	case "properties":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		props := kv.(map[string]any)
		for name, val := range obj {
			sub, known := props[name]
			if !known {
				if ap, set := s["additionalProperties"]; set && ap == false {
					return fmt.Errorf("%s: additional property %q", at, name)
				}
				continue
			}
			if err := validateValue(sub, val, at+"."+name); err != nil {
				return err
			}
		}
	case "additionalProperties":
		if kv != false {
			return fmt.Errorf("%s: unexpected additionalProperties %v", at, kv)
		}
		if _, hasProps := s["properties"]; !hasProps {
			return fmt.Errorf("%s: additionalProperties without properties", at)
		}
	case "required":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, name := range kv.([]any) {
			if _, has := obj[name.(string)]; !has {
				return fmt.Errorf("%s: missing required %q", at, name)
			}
		}
	case "items", "prefixItems":
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		prefix := 0
		if p, has := s["prefixItems"]; has {
			prefix = len(p.([]any))
		}
		for i, e := range arr {
			var sub any
			switch {
			case k == "prefixItems" && i < prefix:
				sub = kv.([]any)[i]
			case k == "items" && i >= prefix:
				sub = kv
			default:
				continue
			}
			if err := validateValue(sub, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "minItems", "maxItems":
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		lim, _ := kv.(json.Number).Int64()
		if n := int64(len(arr)); (k == "minItems" && n < lim) || (k == "maxItems" && n > lim) {
			return fmt.Errorf("%s: %d items violates %s %d", at, n, k, lim)
		}
	case "uniqueItems":
		arr, ok := v.([]any)
		if !ok || kv != true {
			return nil
		}
		for i := range arr {
			for j := i + 1; j < len(arr); j++ {
				if reflect.DeepEqual(arr[i], arr[j]) {
					return fmt.Errorf("%s: items %d and %d are equal", at, i, j)
				}
			}
		}
	default:
		return fmt.Errorf("%s: schema keyword %q is unknown to the test validator", at, k)
	}
	return nil
}

func hasType(t string, v any) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		x, ok := new(big.Rat).SetString(string(n))
		return ok && x.IsInt()
	}
	return false
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// TestValidatorRejects makes sure the checker above can fail: a validator
// that accepts everything would make the schema round-trip tests worthless.
func TestValidatorRejects(t *testing.T) {
	tests := []struct {
		name, schema, instance string
	}{
		{"type", `{"type":"string"}`, `3`},
		{"integer", `{"type":"integer"}`, `3.5`},
		{"maximum", `{"type":"integer","maximum":255}`, `256`},
		{"minimum", `{"type":"integer","minimum":-9223372036854775808}`, `-9223372036854775809`},
		{"maxLength", `{"type":"string","maxLength":1}`, `"ab"`},
		{"enum", `{"enum":["a"]}`, `"b"`},
		{"const", `{"const":"a"}`, `"b"`},
		{"oneOfTwice", `{"oneOf":[{"type":"string"},{"type":"string"}]}`, `"a"`},
		{"anyOfNone", `{"anyOf":[{"type":"null"},{"type":"string"}]}`, `1`},
		{"required", `{"type":"object","properties":{},"required":["a"]}`, `{}`},
		{"additional", `{"type":"object","properties":{},"additionalProperties":false}`, `{"a":1}`},
		{"prefixItems", `{"type":"array","prefixItems":[{"type":"string"}]}`, `[1]`},
		{"maxItems", `{"type":"array","maxItems":1}`, `[1,2]`},
		{"uniqueItems", `{"type":"array","uniqueItems":true}`, `["a","a"]`},
		{"not", `{"not":{}}`, `1`},
		{"base64", `{"type":"string","contentEncoding":"base64"}`, `"%%%"`},
		{"unknownKeyword", `{"pattern":"^a$"}`, `"a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate([]byte(tt.schema), []byte(tt.instance)); err == nil {
				t.Errorf("validate(%s, %s) = nil, want an error", tt.schema, tt.instance)
			}
		})
	}
}
