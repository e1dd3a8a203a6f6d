package binary

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the `;; want:` lines of testdata/invalid/*.wat with the errors Decode returns")

// readFixture returns the .wasm beside a .wat fixture (see testdata/README.md).
func readFixture(t *testing.T, wat string) []byte {
	t.Helper()
	b, err := os.ReadFile(strings.TrimSuffix(wat, ".wat") + ".wasm")
	if err != nil {
		t.Fatalf("%v (regenerate the fixtures: testdata/regen.sh)", err)
	}
	return b
}

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	wats, err := filepath.Glob(filepath.Join("testdata", dir, "*.wat"))
	if err != nil || len(wats) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", dir, err)
	}
	return wats
}

func TestDecodeValidFixtures(t *testing.T) {
	for _, wat := range fixtures(t, "valid") {
		name := strings.TrimSuffix(filepath.Base(wat), ".wat")
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(readFixture(t, wat)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}

const wantPrefix = ";; want: "

// TestDecodeInvalidFixtures decodes every fixture in testdata/invalid and
// compares the error with the fixture's `;; want:` line, exactly.
func TestDecodeInvalidFixtures(t *testing.T) {
	for _, wat := range fixtures(t, "invalid") {
		name := strings.TrimSuffix(filepath.Base(wat), ".wat")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(wat)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decode(readFixture(t, wat))
			if err == nil {
				t.Fatalf("Decode succeeded; want an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if strings.HasPrefix(name, "unsupported-") != errors.Is(err, ErrUnsupported) {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v for %q", errors.Is(err, ErrUnsupported), err)
			}
			lines := strings.Split(string(src), "\n")
			wantLine := -1
			for i, l := range lines {
				if strings.HasPrefix(l, wantPrefix) {
					wantLine = i
				}
			}
			if *update {
				l := wantPrefix + err.Error()
				if wantLine >= 0 {
					lines[wantLine] = l
				} else {
					lines = append([]string{lines[0], l}, lines[1:]...)
				}
				if err := os.WriteFile(wat, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantLine < 0 {
				t.Fatalf("%s has no %q line (run go test -run TestDecodeInvalidFixtures -update)", wat, wantPrefix)
			}
			if want := strings.TrimPrefix(lines[wantLine], wantPrefix); err.Error() != want {
				t.Errorf("Decode error:\n got: %s\nwant: %s", err, want)
			}
		})
	}
}

// TestFixturesUpToDate checks that each committed .wasm fixture sits beside
// its .wat source, so a new .wat is not forgotten.
func TestFixturesUpToDate(t *testing.T) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, wat := range fixtures(t, dir) {
			if b := readFixture(t, wat); !bytes.HasPrefix(b, []byte("\x00asm\x0d\x00\x01\x00")) {
				t.Errorf("%s.wasm is not a component binary", strings.TrimSuffix(wat, ".wat"))
			}
		}
	}
}
