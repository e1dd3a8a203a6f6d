package testcomponents

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// componentPreamble is how every component binary starts: the magic "\0asm", then
// version 0x0d and layer 1 (a core module has version 1, layer 0).
var componentPreamble = []byte{0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}

var corePreamble = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

func readPreamble(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 8)
	if _, err := f.Read(head); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return head
}

// TestComponentsAreBuilt fails when `make testdata` did not produce a component, or
// produced something that is not a component.
func TestComponentsAreBuilt(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			path := Path(t, name)
			if head := readPreamble(t, path); !bytes.Equal(head, componentPreamble) {
				t.Errorf("%s starts with % x, want the component preamble % x", path, head, componentPreamble)
			}
		})
	}
}

// TestFixturesAreBuilt checks every fixture in the build's index against its promise:
// components start with the component preamble, the core module with the core one, and
// each invalid fixture carries the error wasm-tools rejected it with.
func TestFixturesAreBuilt(t *testing.T) {
	fixtures := Fixtures(t)
	sources, err := filepath.Glob(filepath.Join(repoRootOrFatal(t), "testdata", "components", "fixtures", "*.wat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) != len(sources) {
		t.Errorf("the build lists %d fixtures, testdata/components/fixtures has %d sources: run `make testdata`", len(fixtures), len(sources))
	}
	for _, fx := range fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			head := readPreamble(t, Fixture(t, fx.Name))
			want := componentPreamble
			if fx.Expect == "core-module" {
				want = corePreamble
			}
			if !bytes.Equal(head, want) {
				t.Errorf("starts with % x, want % x", head, want)
			}
			if fx.Description == "" {
				t.Error("no description")
			}
			if (fx.Expect == "invalid") != (fx.Error != "") {
				t.Errorf("expect %q with error %q: only invalid fixtures carry an error", fx.Expect, fx.Error)
			}
		})
	}
}

func TestTranspiledReferenceCopies(t *testing.T) {
	for _, name := range []string{JSNoWASI, JSAllTypes, CTool, RustTool} {
		t.Run(name, func(t *testing.T) {
			dir := Transpiled(t, name)
			if _, err := os.Stat(filepath.Join(dir, name+".js")); err != nil {
				t.Errorf("transpiled %s has no %s.js: %v", name, name, err)
			}
		})
	}
}

// TestReferenceHostCalls runs one call through scripts/jco-call.mjs, so a broken
// transpile or a broken script shows up here rather than in a differential test.
func TestReferenceHostCalls(t *testing.T) {
	node, script := ReferenceHost(t)
	tests := []struct {
		component, fn string
		args          []string
		want          string
	}{
		{CTool, "add", []string{"40", "2"}, `{"result":42}`},
		{CTool, "reverse", []string{`"héllo"`}, `{"result":"olléh"}`},
		{RustTool, "fib", []string{"10"}, `{"result":55}`},
		{JSNoWASI, "text#reverse", []string{`"abc"`}, `{"result":"cba"}`},
	}
	for _, tt := range tests {
		t.Run(tt.component+"-"+tt.fn, func(t *testing.T) {
			args := append([]string{script, Transpiled(t, tt.component), tt.fn}, tt.args...)
			out, err := exec.Command(node, args...).Output()
			if err != nil {
				t.Fatalf("jco-call %v: %v", args[1:], err)
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Errorf("jco-call %s %s %v = %s, want %s", tt.component, tt.fn, tt.args, got, tt.want)
			}
		})
	}
}

func TestDirFollowsEnvironment(t *testing.T) {
	want := t.TempDir()
	t.Setenv(EnvDir, want)
	if got := Dir(t); got != want {
		t.Errorf("Dir() = %q with %s=%q", got, EnvDir, want)
	}
}

func TestDefaultDirIsUnderRepoRoot(t *testing.T) {
	t.Setenv(EnvDir, "")
	got, err := dir()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(repoRootOrFatal(t), "build", "components")
	if got != want {
		t.Errorf("dir() = %q, want %q", got, want)
	}
}

func TestCacheDir(t *testing.T) {
	t.Run("from-environment", func(t *testing.T) {
		want := filepath.Join(t.TempDir(), "cache")
		t.Setenv(EnvCacheDir, want)
		if got := CacheDir(t); got != want {
			t.Errorf("CacheDir() = %q, want %q", got, want)
		}
		if info, err := os.Stat(want); err != nil || !info.IsDir() {
			t.Errorf("CacheDir did not create %s: %v", want, err)
		}
	})
	t.Run("temporary-when-unset", func(t *testing.T) {
		t.Setenv(EnvCacheDir, "")
		got := CacheDir(t)
		if info, err := os.Stat(got); err != nil || !info.IsDir() {
			t.Errorf("CacheDir() = %q, not a folder: %v", got, err)
		}
	})
}

// TestMissingComponentFailsWithAdvice runs Path on a fake testing.TB, so the failure it
// must report can be inspected rather than failing this test.
func TestMissingComponentFailsWithAdvice(t *testing.T) {
	t.Setenv(EnvDir, t.TempDir())
	rec := &recordingTB{TB: t}
	func() {
		defer func() { _ = recover() }() // recordingTB.Fatalf panics to stop Path, as the real one would
		Path(rec, "no-such-component")
	}()
	if !rec.failed {
		t.Fatal("Path did not fail for a missing component")
	}
	for _, want := range []string{"no-such-component", "make testdata"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("failure %q does not mention %q", rec.msg, want)
		}
	}
}

type recordingTB struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	panic("Fatalf")
}

func repoRootOrFatal(t *testing.T) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
