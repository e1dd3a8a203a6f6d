package jsonbridge

import (
	"errors"
	"testing"
)

// FuzzDecode decodes arbitrary JSON as a type built from the fuzzer's bytes.
// Decoding must never panic and must fail only with an *Error; whatever it
// accepts must encode to JSON that matches the type's schema and decodes
// back to the same value.
func FuzzDecode(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecode.
	f.Add([]byte{0}, []byte(`true`))
	f.Add([]byte{14, 12}, []byte(`["a","b"]`))
	f.Fuzz(func(t *testing.T, typeBytes, doc []byte) {
		typ := genType(&fuzzBytes{typeBytes}, 6)
		v, err := Decode(typ, doc)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%s, %q) failed with a %T, want *Error: %v", typ, doc, err, err)
			}
			return
		}
		enc, err := Encode(typ, v)
		if err != nil {
			t.Fatalf("Decode(%s, %q) = %#v, which does not encode: %v", typ, doc, v, err)
		}
		if schema, err := Schema(typ); err == nil {
			if err := validate(schema, enc); err != nil {
				t.Fatalf("%s: encoded %s does not match the schema: %v", typ, enc, err)
			}
		}
		back, err := Decode(typ, enc)
		if err != nil {
			t.Fatalf("%s: re-decoding %s: %v", typ, enc, err)
		}
		if !valueEqual(typ, v, back) {
			t.Fatalf("%s: %q → %#v → %s → %#v", typ, doc, v, enc, back)
		}
	})
}

// FuzzParsePackageDocs parses arbitrary section contents: an error or docs,
// never a panic, and Description works on whatever parses.
func FuzzParsePackageDocs(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzParsePackageDocs.
	f.Add([]byte(docsV1))
	f.Add([]byte(docsV0))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParsePackageDocs(b)
		if err != nil {
			return
		}
		for name := range d.Worlds {
			Description(d, name)
		}
		for name, i := range d.Interfaces {
			for fn := range i.Funcs {
				Description(d, "local:pkg/"+name+"@1.0.0", fn)
			}
		}
	})
}
