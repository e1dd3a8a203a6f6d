// Package layering holds tests of the repository's shape: every package has
// one doc comment, and no package imports what its layer may not (see
// ARCHITECTURE.md). It has no code of its own.
package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "tapedeck.dev/tapedeck"

// pkg is one package directory's production (non-test) files.
type pkg struct {
	dir     string // relative to the repository root
	name    string
	docs    []string // files with a package doc comment
	imports map[string][]string
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test")
		}
		dir = parent
	}
}

func packages(t *testing.T) []*pkg {
	t.Helper()
	root := repoRoot(t)
	byDir := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "build" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		p := byDir[rel]
		if p == nil {
			p = &pkg{dir: rel, name: f.Name.Name, imports: map[string][]string{}}
			byDir[rel] = p
		}
		if f.Doc != nil && !strings.HasPrefix(strings.TrimSpace(f.Doc.Text()), "Code generated") {
			// Build-constraint-only files share a package; count real docs.
			p.docs = append(p.docs, filepath.Base(path))
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			p.imports[ip] = append(p.imports[ip], filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []*pkg
	for _, p := range byDir {
		out = append(out, p)
	}
	return out
}

// TestOnePackageDoc: a package says what it is for in exactly one place.
func TestOnePackageDoc(t *testing.T) {
	for _, p := range packages(t) {
		if p.name == "main" && p.dir == "." {
			if len(p.docs) != 1 {
				t.Errorf("the tapedeck command has %d doc comments (%v), want 1 (main.go)", len(p.docs), p.docs)
			}
			continue
		}
		if len(p.docs) != 1 {
			t.Errorf("package %s (%s) has %d package doc comments %v, want exactly 1", p.name, p.dir, len(p.docs), p.docs)
		}
	}
}

// banned lists, per folder prefix, imports its production code may not
// have, and why.
var banned = []struct {
	dirPrefix, importPrefix, why string
}{
	{"app", "github.com/tetratelabs/wazero", "the GUI never touches wasm directly"},
	{"app", module + "/sandbox/component", "the GUI uses the Host, not the runtime"},
	{"app", module + "/sandbox/wasi", "the GUI uses the Host, not the WASI host"},
	{"app", module + "/sandbox/store", "the GUI uses the Host, not the store"},
	{"internal/cli", "github.com/tetratelabs/wazero", "the CLI never touches wasm directly"},
	{"sandbox", module + "/mcpbridge", "the sandbox never imports the layers above it"},
	{"sandbox", module + "/app", "the sandbox never imports the layers above it"},
	{"sandbox", "fyne.io/fyne", "the sandbox builds without cgo and Fyne"},
	{"mcpbridge", module + "/app", "the MCP layer never imports the GUI"},
	{"mcpbridge", "fyne.io/fyne", "the MCP layer builds without cgo and Fyne"},
	{"mcpbridge/clients", module + "/sandbox", "editor configs need nothing of the sandbox"},
	{"sandbox/component", module + "/sandbox/wasi", "the runtime knows host interfaces only through its Registry"},
	{"sandbox/policy", module + "/sandbox/component", "policy is independent of the runtime and of WASI"},
}

func TestLayering(t *testing.T) {
	for _, p := range packages(t) {
		for _, b := range banned {
			if p.dir != b.dirPrefix && !strings.HasPrefix(p.dir, b.dirPrefix+"/") {
				continue
			}
			for imp, files := range p.imports {
				if imp == b.importPrefix || strings.HasPrefix(imp, b.importPrefix+"/") {
					t.Errorf("%s imports %s (in %v): %s", p.dir, imp, files, b.why)
				}
			}
		}
		// Production code never depends on the testing package, but for
		// the helpers that exist for tests.
		if files, ok := p.imports["testing"]; ok && p.dir != "internal/testcomponents" && p.dir != "internal/wintest" {
			t.Errorf("%s imports testing in production code (%v)", p.dir, files)
		}
	}
}
