// Package testcomponents finds the WebAssembly Components that `make testdata` builds
// from testdata/components (see its README for what each one exercises), so tests in
// every package can load them by name.
//
// The components live in $TAPEDECK_TEST_COMPONENTS (the Makefile sets it), else in
// build/components under the repository root. A missing component fails the test: CI
// must run these tests, never skip them.
package testcomponents

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvDir names the variable holding the folder of built components.
const EnvDir = "TAPEDECK_TEST_COMPONENTS"

// EnvCacheDir names the variable holding the wazero compilation cache shared by test
// packages (compiling a JavaScript component takes seconds; the cache makes it once).
const EnvCacheDir = "TAPEDECK_TEST_CACHE_DIR"

// The components scripts/build-components.sh builds. The names are a contract with the
// script and with testdata/components/README.md.
const (
	JSNoWASI   = "js-nowasi"   // componentize-js, no WASI imports at all
	JSWASI     = "js-wasi"     // componentize-js with stdio, clocks and random
	JSAllTypes = "js-alltypes" // every WIT value type, a resource, a custom host import
	JSFetch    = "js-fetch"    // fetch() through wasi:http
	CTool      = "c-tool"      // clang + wasi-libc, current jco reactor adapter
	CToolOld   = "c-tool-old"  // the same core module, jco 1.11.1's older layout
	CFiles     = "c-files"     // read, list and write files through wasi:filesystem
	CEnv       = "c-env"       // getenv and environ through wasi:cli/environment
	CLimits    = "c-limits"    // an infinite loop, a memory bomb, a stdout flood
	RustTool   = "rust-tool"   // Debian rustc, exports _initialize
	RustNoInit = "rust-noinit" // the same without _initialize: ctors trap in post-return
	GoCmd      = "go-cmd"      // GOOS=wasip1 command, exports wasi:cli/run
)

// Names lists every component the build produces, in a stable order.
func Names() []string {
	return []string{
		JSNoWASI, JSWASI, JSAllTypes, JSFetch,
		CTool, CToolOld, CFiles, CEnv, CLimits,
		RustTool, RustNoInit, GoCmd,
	}
}

// Dir returns the folder holding the built components, failing the test when it does
// not exist.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := dir()
	if err != nil {
		t.Fatalf("test components: %v", err)
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		t.Fatalf("test components not built (no folder %s): run `make testdata`", dir)
	}
	return dir
}

// Path returns the path of the named component, failing the test when it has not been
// built.
func Path(t testing.TB, name string) string {
	t.Helper()
	return file(t, name+".wasm", "test component "+name)
}

// Fixture returns the path of a hand-written fixture (testdata/components/fixtures/NAME.wat,
// built to fixtures/NAME.wasm), failing the test when it has not been built.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	return file(t, filepath.Join("fixtures", name+".wasm"), "test fixture "+name)
}

// FixtureInfo describes one hand-written fixture, from the build's fixtures/index.json.
type FixtureInfo struct {
	Name        string `json:"name"`
	Expect      string `json:"expect"` // "valid", "invalid" or "core-module"
	Description string `json:"description"`
	// Error is wasm-tools' reason for rejecting an invalid fixture (the defect it holds).
	Error string `json:"error,omitempty"`
}

// Fixtures lists every fixture the build produced, failing the test when they are not built.
func Fixtures(t testing.TB) []FixtureInfo {
	t.Helper()
	index := file(t, filepath.Join("fixtures", "index.json"), "test fixtures")
	data, err := os.ReadFile(index)
	if err != nil {
		t.Fatalf("test fixtures: %v", err)
	}
	var fixtures []FixtureInfo
	if err := json.Unmarshal(data, &fixtures); err != nil {
		t.Fatalf("test fixtures: %s: %v (run `make testdata` to rebuild it)", index, err)
	}
	return fixtures
}

// ReferenceHost returns node's path and scripts/jco-call.mjs's, to run a transpiled
// component (see Transpiled) as the reference for differential tests and benchmarks:
// exec.Command(node, script, Transpiled(t, name), "--serve").
func ReferenceHost(t testing.TB) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("reference host: node not found (%v): run scripts/install-deps.sh build test", err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("reference host: %v", err)
	}
	script = filepath.Join(root, "scripts", "jco-call.mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("reference host: %v", err)
	}
	return node, script
}

// Transpiled returns the folder holding `jco transpile`'s output for the named component,
// for scripts/jco-call.mjs (the reference host), failing the test when it is missing.
func Transpiled(t testing.TB, name string) string {
	t.Helper()
	return file(t, filepath.Join("transpiled", name), "transpiled test component "+name)
}

// CacheDir returns the shared wazero compilation cache folder from $TAPEDECK_TEST_CACHE_DIR,
// or a fresh temporary folder for this test when the variable is unset.
func CacheDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(EnvCacheDir); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("test compilation cache %s: %v", dir, err)
		}
		return dir
	}
	return t.TempDir()
}

func file(t testing.TB, rel, what string) string {
	t.Helper()
	dir, err := dir()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	path := filepath.Join(dir, rel)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s not built (no %s): run `make testdata`", what, path)
		}
		t.Fatalf("%s: %v", what, err)
	}
	return path
}

// dir is $TAPEDECK_TEST_COMPONENTS, else build/components under the repository root.
func dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", fmt.Errorf("%s is not set and %w", EnvDir, err)
	}
	return filepath.Join(root, "build", "components"), nil
}

// repoRoot walks up from the working directory (a test runs in its package's folder)
// to the folder holding go.mod.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot find the repository root: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s to find the repository root from", wd)
		}
	}
}
