package binary

import (
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must return a component or
// an *Error, never panic, and finish quickly. The seed corpus in
// testdata/fuzz/FuzzDecode holds the valid and invalid fixtures.
func FuzzDecode(f *testing.F) {
	f.Add(component())
	f.Add(component(section(secType, leb(1), []byte{0x70, 0x73})))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			return
		}
		// What Decode accepts must be fully resolved.
		for _, e := range c.Imports() {
			checkResolved(t, e.Name, e.Type)
		}
		for _, e := range c.Exports() {
			checkResolved(t, e.Name, e.Type)
		}
	})
}
