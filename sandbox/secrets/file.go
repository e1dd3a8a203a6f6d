package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// fileName is the fallback file, in the secrets folder.
const fileName = "secrets.json"

// fileBackend keeps values in one JSON file, mode 0600, replaced atomically
// on every change. A damaged file is never overwritten: every operation
// reports ErrCorrupt until a person deals with it.
type fileBackend struct {
	path string
}

type fileData struct {
	Version    int                          `json:"version"`
	Components map[string]map[string]string `json:"components"`
}

func (b *fileBackend) get(component, key string) (string, error) {
	all, err := b.load()
	if err != nil {
		return "", err
	}
	v, ok := all.Components[component][key]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (b *fileBackend) set(component, key, value string) error {
	all, err := b.load()
	if err != nil {
		return err
	}
	if all.Components[component] == nil {
		all.Components[component] = map[string]string{}
	}
	all.Components[component][key] = value
	return b.save(all)
}

func (b *fileBackend) delete(component, key string) error {
	all, err := b.load()
	if err != nil {
		return err
	}
	if _, ok := all.Components[component][key]; !ok {
		return ErrNotFound
	}
	delete(all.Components[component], key)
	if len(all.Components[component]) == 0 {
		delete(all.Components, component)
	}
	return b.save(all)
}

func (b *fileBackend) list(component string) ([]string, error) {
	all, err := b.load()
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range all.Components[component] {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

func (b *fileBackend) deleteAll(component string) error {
	all, err := b.load()
	if err != nil {
		return err
	}
	if _, ok := all.Components[component]; !ok {
		return nil
	}
	delete(all.Components, component)
	return b.save(all)
}

func (b *fileBackend) remove() error {
	if err := os.Remove(b.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the secrets file: %w", err)
	}
	return nil
}

func (b *fileBackend) load() (fileData, error) {
	all := fileData{Version: 1, Components: map[string]map[string]string{}}
	f, err := os.Open(b.path)
	if errors.Is(err, os.ErrNotExist) {
		return all, nil
	}
	if err != nil {
		return all, fmt.Errorf("reading the secrets file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return all, fmt.Errorf("reading the secrets file: %w", err)
	}
	// Windows has no mode bits to check: the file inherits the ACL of the
	// user's own profile folder.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return all, fmt.Errorf("%w: %s has mode %04o; its values may have been seen: change them where they were issued, then run `chmod 600 %s`",
			ErrUnsafeFile, b.path, fi.Mode().Perm(), b.path)
	}
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	err = dec.Decode(&all)
	if err == nil && (all.Version != 1 || !validFile(all) || dec.More()) {
		err = errUnexpected
	}
	if err != nil {
		return all, fmt.Errorf("%w: %s %s; it was left as is: restore it from a backup, or move it aside and set the secrets again with `tapedeck secret set`",
			ErrCorrupt, b.path, describeDecodeErr(err))
	}
	if all.Components == nil {
		all.Components = map[string]map[string]string{}
	}
	return all, nil
}

func (b *fileBackend) save(all fileData) error {
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return fmt.Errorf("writing the secrets file: %w", err)
	}
	if err := atomicfile.WriteFile(b.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the secrets file: %w", err)
	}
	return nil
}

func validFile(all fileData) bool {
	for component, keys := range all.Components {
		if validComponent(component) != nil {
			return false
		}
		for k := range keys {
			if validKey(k) != nil {
				return false
			}
		}
	}
	return true
}

// ensureDir creates the secrets folder, or tightens it to 0700.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return nil
}
