package clients

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets feed any bytes to one client's editor of each format.
// Either the input is refused (an error, and the pure editors cannot have
// written anything), or: the connected file parses and holds exactly our
// entry plus the input's content; connecting again changes nothing; and
// disconnecting gives the input back byte for byte (or, when the input had
// our entry already, what disconnecting the input directly gives).

func FuzzJSONCEdit(f *testing.F) { fuzzEditor(f, "vscode", "zed", "opencode") }
func FuzzJSONEdit(f *testing.F)  { fuzzEditor(f, "claude-desktop", "cursor", "copilot-cli") }
func FuzzYAMLEdit(f *testing.F)  { fuzzEditor(f, "continue", "goose") }
func FuzzTOMLEdit(f *testing.F)  { fuzzEditor(f, "codex") }

func fuzzEditor(f *testing.F, names ...string) {
	var cs []Client
	for _, n := range names {
		c, ok := Lookup(n)
		if !ok {
			f.Fatalf("no client %q", n)
		}
		cs = append(cs, c)
		seeds, _ := filepath.Glob(filepath.Join("testdata", "golden", n, "*"))
		for _, s := range seeds {
			if b, err := os.ReadFile(s); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range cs {
			checkRoundTrip(t, c, data)
		}
	})
}

func checkRoundTrip(t *testing.T, c Client, data []byte) {
	ed := editorFor(c)
	want := c.Entry.fields(goldenBinary)
	_, had, err := ed.entry(data)
	if err != nil {
		if _, uerr := ed.upsert(data, want); uerr == nil {
			t.Fatalf("%s: entry refused the input (%v) but connect did not", c.Name, err)
		}
		return
	}
	after, err := ed.upsert(data, want)
	if err != nil {
		// Refused: the editors are pure, so nothing was written.
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%s: connect: %v", c.Name, err)
		}
		return
	}
	if err := checkEdit(ed, c, data, after, want); err != nil {
		t.Fatalf("%s: connect: %v\n--- input\n%q\n--- after\n%q", c.Name, err, data, after)
	}
	if again, err := ed.upsert(after, want); err != nil || !bytes.Equal(again, after) {
		t.Fatalf("%s: connect twice changed the file (err %v)\n--- after\n%q\n--- again\n%q", c.Name, err, after, again)
	}
	back, err := ed.remove(after)
	if err != nil {
		t.Fatalf("%s: disconnect after connect: %v\n--- after\n%q", c.Name, err, after)
	}
	if err := checkEdit(ed, c, after, back, nil); err != nil {
		t.Fatalf("%s: disconnect: %v\n--- after\n%q\n--- back\n%q", c.Name, err, after, back)
	}
	if had {
		direct, err := ed.remove(data)
		if err == nil && !bytes.Equal(direct, back) && ambiguousEmpty(ed, c, direct) {
			// Removing our entry left an empty servers collection, which
			// may or may not have come with it (see ambiguousEmpty); the
			// two must still mean the same.
			err = checkEdit(ed, c, direct, back, nil)
		} else if err == nil && !bytes.Equal(direct, back) {
			err = errors.New("different bytes")
		}
		if err != nil {
			t.Fatalf("%s: disconnect of the input (err %v) differs from disconnect after connect\n--- direct\n%q\n--- back\n%q", c.Name, err, direct, back)
		}
		return
	}
	if !bytes.Equal(back, data) && !ambiguousEmpty(ed, c, data) {
		t.Fatalf("%s: connect then disconnect changed the input\n--- input\n%q\n--- after\n%q\n--- back\n%q", c.Name, data, after, back)
	}
}
