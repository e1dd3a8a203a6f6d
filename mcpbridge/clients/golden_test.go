package clients

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenBinary is the binary path every golden file's entry points at.
const goldenBinary = "/opt/tapedeck/bin/tapedeck"

// requiredCases are the inputs every client's golden folder must have
// (beside the missing file, which needs no input).
var requiredCases = []string{"connect-empty", "connect-others", "connect-nokey", "connect-stale", "connect-stranger"}

// TestGolden connects into and disconnects from each input in
// testdata/golden/<client>/<case>.before. <case>.after is the file after
// connect, <case>.disconnected the file after a disconnect that follows.
// Run with -update to rewrite them, then read the diff.
func TestGolden(t *testing.T) {
	for _, c := range Clients() {
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", c.Name)
			inputs, err := filepath.Glob(filepath.Join(dir, "*.before"))
			if err != nil {
				t.Fatal(err)
			}
			cases := []string{"connect-missing"}
			for _, in := range inputs {
				cases = append(cases, strings.TrimSuffix(filepath.Base(in), ".before"))
			}
			for _, want := range requiredCases {
				if !containsString(cases, want) {
					t.Errorf("no %s.before in %s", want, dir)
				}
			}
			for _, name := range cases {
				t.Run(name, func(t *testing.T) {
					var before []byte
					if name != "connect-missing" {
						if before, err = os.ReadFile(filepath.Join(dir, name+".before")); err != nil {
							t.Fatal(err)
						}
					}
					runGoldenCase(t, c, filepath.Join(dir, name), before)
				})
			}
		})
	}
}

func runGoldenCase(t *testing.T, c Client, stem string, before []byte) {
	ed := editorFor(c)
	want := c.Entry.fields(goldenBinary)
	_, hadEntry, err := ed.entry(before)
	if err != nil {
		t.Fatalf("entry: %v", err)
	}
	after, err := ed.upsert(before, want)
	if errors.Is(err, ErrNotOurs) {
		// A stranger's entry: refused, and disconnect refuses too.
		if _, err := ed.remove(before); !errors.Is(err, ErrNotOurs) {
			t.Errorf("remove of a stranger's entry: err = %v, want ErrNotOurs", err)
		}
		checkGolden(t, stem+".after", before)
		return
	}
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	checkGolden(t, stem+".after", after)
	if err := checkEdit(ed, c, before, after, want); err != nil {
		t.Errorf("connect: %v", err)
	}
	again, err := ed.upsert(after, want)
	if err != nil || !bytes.Equal(again, after) {
		t.Errorf("connect twice changed the file (err %v):\n%s", err, again)
	}
	disconnected, err := ed.remove(after)
	if err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	checkGolden(t, stem+".disconnected", disconnected)
	if err := checkEdit(ed, c, after, disconnected, nil); err != nil {
		t.Errorf("disconnect: %v", err)
	}
	if !hadEntry && !bytes.Equal(disconnected, before) && !ambiguousEmpty(ed, c, before) {
		t.Errorf("connect then disconnect did not restore the input:\n--- input\n%s\n--- got\n%s", before, disconnected)
	}
	if hadEntry {
		direct, err := ed.remove(before)
		if err != nil || !bytes.Equal(direct, disconnected) {
			t.Errorf("disconnect of the stale entry differs from disconnect after connect (err %v):\n%s", err, direct)
		}
	}
}

// ambiguousEmpty reports an input that holds nothing but an empty servers
// collection or an empty top-level object. Connecting into such a file can
// give the very bytes that connecting into the same file without it gives
// (`{}` and a missing file both end up as our skeleton), so a disconnect
// that sees only those bytes cannot tell which it was and removes what our
// connect would have added: the meaning is kept (checkEdit checks that) but
// not the empty `{}`. Manager keeps a record of what it wrote and restores
// such a file exactly (TestManagerRoundTrip, case connect-emptyservers).
func ambiguousEmpty(ed docEditor, c Client, before []byte) bool {
	doc, err := ed.decode(before)
	if err != nil {
		return false
	}
	root, _ := normalize(doc).(map[string]any)
	if len(root) == 0 {
		return true
	}
	v, ok := root[c.Servers[0]]
	if !ok {
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return v == nil
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update, then read the diff):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
