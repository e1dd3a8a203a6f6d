// Package wintest helps tests run on Windows and under Wine, which is how
// the Windows-only code (named pipes, file locks) is tested on Linux
// (`make test-windows`). Wine is not Windows: where Wine lacks a system
// call that Windows has, a test skips under Wine only, saying which call,
// and keeps its check on Windows.
//
//	if v, ok := wintest.Wine(); ok {
//		t.Skipf("Wine %s does not implement GetSecurityInfo on pipes", v)
//	}
//	dir := wintest.TempDir(t) // t.TempDir, but removable under Wine
package wintest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Wine returns Wine's version and true when this process runs under Wine
// rather than on Windows (or on another system).
func Wine() (string, bool) { return wineVersion() }

// TempDir is t.TempDir, except under Wine, where it makes the folder
// itself and removes it file by file when the test ends.
//
// Go's os.RemoveAll (which t.TempDir's cleanup uses) deletes through
// NtSetInformationFile(FileDispositionInformationEx), which Wine 8 answers
// with STATUS_NOT_IMPLEMENTED, an error Go does not fall back from; the
// cleanup then fails the test. os.Remove uses DeleteFile and
// RemoveDirectory, which Wine has.
func TempDir(t testing.TB) string {
	t.Helper()
	if _, ok := Wine(); !ok {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "wintest")
	if err != nil {
		t.Fatalf("making a temporary folder: %v", err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("removing the temporary folder: %v", err)
		}
	})
	return dir
}

// removeTree removes dir and everything in it with os.Remove, deepest
// first.
func removeTree(dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return err
	}
	// WalkDir visits a folder before its contents: remove in reverse.
	for _, p := range slices.Backward(paths) {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}
