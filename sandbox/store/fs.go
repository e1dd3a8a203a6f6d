package store

import (
	"fmt"
	"io/fs"
	"os"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// fileSystem is every write the store makes. Reads go to the os package
// directly; writes go through here so that tests can fail any one of them
// (a full disk, a crash) and check that nothing half-written is ever seen.
type fileSystem interface {
	// writeFile creates or truncates name, writes data and syncs it.
	writeFile(name string, data []byte, perm fs.FileMode) error
	// replaceFile replaces name atomically (see internal/atomicfile).
	replaceFile(name string, data []byte, perm fs.FileMode) error
	rename(from, to string) error
	// remove deletes name; a missing name is not an error.
	remove(name string) error
	removeAll(name string) error
	mkdirAll(name string, perm fs.FileMode) error
	// syncDir makes the renames and removals in dir durable.
	syncDir(dir string) error
}

type osFS struct{}

func (osFS) writeFile(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}

func (osFS) replaceFile(name string, data []byte, perm fs.FileMode) error {
	return atomicfile.WriteFile(name, data, perm)
}

func (osFS) rename(from, to string) error { return os.Rename(from, to) }

func (osFS) remove(name string) error {
	if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

func (osFS) removeAll(name string) error                  { return os.RemoveAll(name) }
func (osFS) mkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

func (osFS) syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some platforms (Windows) cannot sync a folder; the renames have
	// happened and are as durable as that platform makes them.
	_ = d.Sync()
	return nil
}
