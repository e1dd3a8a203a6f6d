//go:build windows

package localsock

import (
	"context"
	"errors"
	"os"
	"regexp"
	"testing"
)

// TestPipePerDataDir: on Windows the owner's socket is a named pipe named
// after the user and the data dir, so two data dirs of one user have two
// owners, each reachable only on its own pipe.
func TestPipePerDataDir(t *testing.T) {
	pathA, lockA := owned(t)
	pathB, lockB := owned(t)
	name := regexp.MustCompile(`^\\\\\.\\pipe\\tapedeck-[a-z0-9_.-]+-[0-9a-f]{16}$`)
	for _, p := range []string{pathA, pathB} {
		if !name.MatchString(p) {
			t.Errorf("socket path %q is not \\\\.\\pipe\\tapedeck-<user>-<hash>", p)
		}
	}
	if pathA == pathB {
		t.Fatalf("two data dirs share the pipe %s", pathA)
	}
	lnA, err := Listen(pathA, lockA)
	if err != nil {
		t.Fatal(err)
	}
	defer lnA.Close()
	// B has no owner yet: its pipe is not A's.
	if c, err := Dial(context.Background(), pathB); !errors.Is(err, os.ErrNotExist) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("Dial of the unserved data dir's pipe = %v, want os.ErrNotExist", err)
	}
	lnB, err := Listen(pathB, lockB)
	if err != nil {
		t.Fatalf("Listen for a second data dir while the first is served: %v", err)
	}
	lnB.Close()
}
