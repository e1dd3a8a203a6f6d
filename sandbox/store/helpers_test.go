package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

// component reads a built test component.
func component(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// policyYAML is a small valid policy whose description names its version,
// so a test can tell which Put a policy file came from.
func policyYAML(version string) []byte {
	return []byte(fmt.Sprintf("version: \"1.0\"\ndescription: %q\npermissions:\n  environment:\n    allow:\n      - key: API_KEY\n", version))
}

// faultyFS passes every write to the real file system except the failAt-th
// (1-based), which fails with err. With crash set, every write after it
// fails too, as if the process had died there.
type faultyFS struct {
	osFS
	mu     sync.Mutex
	failAt int
	crash  bool
	err    error
	ops    []string // every write attempted, e.g. "rename COMMIT.tmp"
}

func (f *faultyFS) step(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op+" "+name)
	n := len(f.ops)
	if f.failAt > 0 && (n == f.failAt || f.crash && n > f.failAt) {
		return &fs.PathError{Op: op, Path: name, Err: f.err}
	}
	return nil
}

func (f *faultyFS) writeFile(name string, data []byte, perm fs.FileMode) error {
	if err := f.step("write", name); err != nil {
		return err
	}
	return f.osFS.writeFile(name, data, perm)
}

func (f *faultyFS) replaceFile(name string, data []byte, perm fs.FileMode) error {
	if err := f.step("replace", name); err != nil {
		return err
	}
	return f.osFS.replaceFile(name, data, perm)
}

func (f *faultyFS) rename(from, to string) error {
	if err := f.step("rename", from); err != nil {
		return err
	}
	return f.osFS.rename(from, to)
}

func (f *faultyFS) remove(name string) error {
	if err := f.step("remove", name); err != nil {
		return err
	}
	return f.osFS.remove(name)
}

func (f *faultyFS) removeAll(name string) error {
	if err := f.step("removeAll", name); err != nil {
		return err
	}
	return f.osFS.removeAll(name)
}

func (f *faultyFS) mkdirAll(name string, perm fs.FileMode) error {
	if err := f.step("mkdirAll", name); err != nil {
		return err
	}
	return f.osFS.mkdirAll(name, perm)
}

func (f *faultyFS) syncDir(name string) error {
	if err := f.step("syncDir", name); err != nil {
		return err
	}
	return f.osFS.syncDir(name)
}

var errDiskFull error = syscall.ENOSPC

func isDiskFull(err error) bool { return errors.Is(err, errDiskFull) }
