// Package secrets keeps per-component secrets: values a person gives a
// component (an API token, a password) that the sandbox injects as
// environment variables where the component's policy allows the key.
//
// Values live in the OS keychain (macOS Keychain, Windows Credential
// Manager, the Secret Service on Linux) under the service "tapedeck" and the
// account "<component>/<key>". Keychains cannot list their entries, so the
// names (never the values) are also kept in an index file in the data dir.
// When no keychain answers at Open, values go to a 0600 JSON file in the
// data dir instead, and Warning says so for the tray and `tapedeck doctor`.
//
// Values never appear in errors, logs or other files. The Redactor learns
// every value that passes through a store, so the activity log and error
// paths can blank them out.
//
//	s, err := secrets.Open(secrets.Options{Dir: dirs.Data})
//	if err != nil { … }
//	if w := s.Warning(); w != "" { show(w) }
//	err = s.Set("weather", "API_KEY", token)
package secrets

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
)

// Service is the keychain service name every entry is stored under.
const Service = "tapedeck"

// Store is where components' secrets are kept. Implementations are safe for
// concurrent use. Get and Delete of a missing key return an error matching
// ErrNotFound; List of an unknown component returns no names and no error;
// DeleteAll of an unknown component does nothing.
type Store interface {
	Get(component, key string) (string, error)
	Set(component, key, value string) error
	Delete(component, key string) error
	// List returns the component's key names, sorted; never values.
	List(component string) ([]string, error)
	// DeleteAll removes every secret of the component (on unload).
	DeleteAll(component string) error
}

// Errors callers branch on. Errors returned by this package wrap them.
var (
	ErrNotFound    = errors.New("secret not found")
	ErrInvalidName = errors.New("invalid name")
	// ErrCorrupt reports an index or fallback file that cannot be read as
	// ours. The file is left untouched; the message says how to recover.
	ErrCorrupt = errors.New("secrets file is damaged")
	// ErrUnsafeFile reports a fallback file other users can read.
	ErrUnsafeFile = errors.New("secrets file is readable by other users")
)

// Backend names where a Secrets keeps values.
type Backend string

const (
	BackendKeychain Backend = "keychain"
	BackendFile     Backend = "file"
)

// Options configures Open.
type Options struct {
	// Dir is the data dir (see internal/paths). The store keeps its files in
	// Dir/secrets, creating it with mode 0700. Required.
	Dir string
	// FileOnly keeps values in the fallback file without trying the
	// keychain: for tests and for machines whose person chose so. The
	// default, false, uses the keychain when it answers.
	FileOnly bool
}

// Secrets is the Store Open returns. It is safe for concurrent use within
// one process; a data dir has one owning process (internal/ownerlock), and
// other processes reach secrets through it, so Secrets does not lock across
// processes.
type Secrets struct {
	mu       sync.Mutex
	b        backend
	kind     Backend
	warning  string
	redactor *Redactor
}

var _ Store = (*Secrets)(nil)

// backend is one storage of values; Secrets validates names, serializes
// calls and feeds the redactor before calling it.
type backend interface {
	get(component, key string) (string, error)
	set(component, key, value string) error
	delete(component, key string) error
	list(component string) ([]string, error)
	deleteAll(component string) error
}

// folder is the subfolder of the data dir the store's files live in.
const folder = "secrets"

// Open returns the store for the data dir in opts. It checks once, with a
// Set/Get/Delete of a probe entry, whether the OS keychain works; if not,
// the store uses the fallback file and Warning explains why and what to
// install. When the keychain works and an earlier run left values in the
// fallback file, they are moved into the keychain.
//
// Open waits for the keychain at most 10 seconds (a keychain that shows an
// unlock prompt nobody answers would otherwise hang it) and then falls back.
//
// # Errors
//
// A missing Dir; a secrets folder that cannot be created; ErrCorrupt or
// ErrUnsafeFile when the fallback file is in use and cannot be trusted.
func Open(opts Options) (*Secrets, error) {
	return open(opts, osKeyring{}, probeTimeout)
}

func open(opts Options, kr keyring, timeout timeoutDuration) (*Secrets, error) {
	if opts.Dir == "" {
		return nil, errors.New("opening secrets: no data dir given")
	}
	dir := filepath.Join(opts.Dir, folder)
	if err := ensureDir(dir); err != nil {
		return nil, fmt.Errorf("opening secrets: %w", err)
	}
	s := &Secrets{redactor: &Redactor{}}
	file := &fileBackend{path: filepath.Join(dir, fileName)}
	if opts.FileOnly {
		s.b, s.kind = file, BackendFile
		return s, s.learnFile(file)
	}
	chain := &keychainBackend{kr: kr, indexPath: filepath.Join(dir, indexName)}
	if err := probe(kr, timeout); err != nil {
		s.b, s.kind = file, BackendFile
		s.warning = fmt.Sprintf("secrets are stored in a file (%s) because no keychain was found (%v): "+
			"install and unlock a keychain (on Linux: gnome-keyring or KeePassXC's Secret Service, in a desktop session), "+
			"then restart Tapedeck to move them into it", file.path, err)
		if names, err := chain.count(); err == nil && names > 0 {
			s.warning += fmt.Sprintf("; %d secret(s) stored in the keychain earlier are unavailable until it is back", names)
		}
		return s, s.learnFile(file)
	}
	s.b, s.kind = chain, BackendKeychain
	moved, err := migrate(file, chain)
	if err != nil {
		s.warning = fmt.Sprintf("secrets left in the file %s could not be moved into the keychain: %v; they stay there until the next start", file.path, err)
	} else if moved > 0 {
		s.warning = fmt.Sprintf("moved %d secret(s) from the file into the keychain", moved)
	}
	return s, nil
}

// Backend reports where values are kept.
func (s *Secrets) Backend() Backend { return s.kind }

// Warning is a sentence for a person about the store's state (values kept
// in a file, values moved), or "" when there is nothing to say.
func (s *Secrets) Warning() string { return s.warning }

// Redactor returns the redactor that knows every value this store has read
// or written since Open (and, with the file backend, every stored value).
// It is shared and stays current; pass it to the activity log.
func (s *Secrets) Redactor() *Redactor { return s.redactor }

// Get returns the value of component's key.
func (s *Secrets) Get(component, key string) (string, error) {
	if err := validate(component, key); err != nil {
		return "", fmt.Errorf("reading secret: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.b.get(component, key)
	if err != nil {
		return "", fmt.Errorf("reading secret %s of %s: %w", key, component, err)
	}
	s.redactor.Add(v)
	return v, nil
}

// Set stores value as component's key, replacing an earlier value.
func (s *Secrets) Set(component, key, value string) error {
	if err := validate(component, key); err != nil {
		return fmt.Errorf("storing secret: %w", err)
	}
	s.redactor.Add(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.b.set(component, key, value); err != nil {
		return fmt.Errorf("storing secret %s of %s: %w", key, component, err)
	}
	return nil
}

// Delete removes component's key.
func (s *Secrets) Delete(component, key string) error {
	if err := validate(component, key); err != nil {
		return fmt.Errorf("deleting secret: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.b.delete(component, key); err != nil {
		return fmt.Errorf("deleting secret %s of %s: %w", key, component, err)
	}
	return nil
}

// List returns the names of component's secrets, sorted.
func (s *Secrets) List(component string) ([]string, error) {
	if err := validComponent(component); err != nil {
		return nil, fmt.Errorf("listing secrets: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.b.list(component)
	if err != nil {
		return nil, fmt.Errorf("listing secrets of %s: %w", component, err)
	}
	sort.Strings(names)
	return names, nil
}

// DeleteAll removes every secret of component.
func (s *Secrets) DeleteAll(component string) error {
	if err := validComponent(component); err != nil {
		return fmt.Errorf("deleting secrets: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.b.deleteAll(component); err != nil {
		return fmt.Errorf("deleting the secrets of %s: %w", component, err)
	}
	return nil
}

// learnFile teaches the redactor every value in the fallback file, so that
// values are redacted even before anything reads them.
func (s *Secrets) learnFile(f *fileBackend) error {
	all, err := f.load()
	if err != nil {
		return fmt.Errorf("opening secrets: %w", err)
	}
	for _, keys := range all.Components {
		for _, v := range keys {
			s.redactor.Add(v)
		}
	}
	return nil
}

// migrate moves the fallback file's values into the keychain and removes
// the file once all of them are there. A failure part way leaves the file
// whole: the next Open tries again, and values already copied are simply
// written again.
func migrate(file *fileBackend, chain *keychainBackend) (int, error) {
	all, err := file.load()
	if err != nil || len(all.Components) == 0 {
		return 0, err
	}
	moved := 0
	for component, keys := range all.Components {
		for key, value := range keys {
			if err := chain.set(component, key, value); err != nil {
				return 0, err
			}
			moved++
		}
	}
	if err := file.remove(); err != nil {
		return 0, err
	}
	return moved, nil
}
