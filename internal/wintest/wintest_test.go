package wintest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// envUnderWine names the variable `make test-windows` sets when it runs
// the test programs under Wine, so that detection is checked both ways.
const envUnderWine = "TAPEDECK_TEST_UNDER_WINE"

func TestWine(t *testing.T) {
	v, ok := Wine()
	switch {
	case os.Getenv(envUnderWine) != "" && (!ok || v == ""):
		t.Fatalf("Wine() = %q, %v under Wine; want its version", v, ok)
	case runtime.GOOS != "windows" && ok:
		t.Fatalf("Wine() = %q, true on %s", v, runtime.GOOS)
	}
	t.Logf("Wine() = %q, %v", v, ok)
}

// TestTempDirRemoved: the folder and what a test left in it are gone when
// the test ends, on every system.
func TestTempDirRemoved(t *testing.T) {
	var dir string
	t.Run("use", func(t *testing.T) {
		dir = TempDir(t)
		if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after the test, Stat(%s) = %v; want it removed", dir, err)
	}
}
