package jsonbridge

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// TestSchemasAgreeWithGoSDKValidator resolves the schemas with the JSON
// Schema implementation the MCP go-sdk uses, and validates encoded values
// with it: a second opinion beside the package's own small checker, and
// proof that the SDK accepts every keyword the schemas use.
func TestSchemasAgreeWithGoSDKValidator(t *testing.T) {
	for seed := range uint64(150) {
		r := rand.New(rand.NewPCG(seed, 0x5d4))
		typ := genType(randBytes{r}, 4)
		raw, err := Schema(typ)
		if err != nil {
			t.Fatalf("seed %d: Schema(%s): %v", seed, typ, err)
		}
		var s jsonschema.Schema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("seed %d: go-sdk's jsonschema cannot read %s: %v", seed, raw, err)
		}
		resolved, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("seed %d: go-sdk's jsonschema rejects %s: %v", seed, raw, err)
		}
		for range 5 {
			enc, err := Encode(typ, genValue(typ, r))
			if err != nil {
				t.Fatal(err)
			}
			var instance any
			if err := json.Unmarshal(enc, &instance); err != nil {
				t.Fatal(err)
			}
			if err := resolved.Validate(instance); err != nil {
				t.Fatalf("seed %d: %s fails the schema of %s under go-sdk's validator: %v", seed, enc, typ, err)
			}
		}
	}
}
