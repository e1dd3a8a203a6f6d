package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// indexName is the file, in the secrets folder, that lists the names of the
// secrets kept in the keychain.
const indexName = "keychain-index.json"

// probeTimeout bounds the keychain check in Open.
const probeTimeout = 10 * time.Second

// probeAccount cannot collide with a real entry: accounts of real entries
// always contain a '/'.
const probeAccount = ".tapedeck-probe"

type timeoutDuration = time.Duration

// keyring is the part of a keychain the store uses; osKeyring is the real
// one, tests use fakes.
type keyring interface {
	Set(service, account, value string) error
	Get(service, account string) (string, error)
	Delete(service, account string) error
}

// osKeyring is the OS keychain through go-keyring, with its not-found error
// mapped to ErrNotFound.
type osKeyring struct{}

func (osKeyring) Set(service, account, value string) error {
	return mapKeyringErr(gokeyring.Set(service, account, value))
}

func (osKeyring) Get(service, account string) (string, error) {
	v, err := gokeyring.Get(service, account)
	return v, mapKeyringErr(err)
}

func (osKeyring) Delete(service, account string) error {
	return mapKeyringErr(gokeyring.Delete(service, account))
}

func mapKeyringErr(err error) error {
	if errors.Is(err, gokeyring.ErrNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, gokeyring.ErrSetDataTooBig) {
		return errors.New("the value is too large for this keychain")
	}
	return err
}

// probe checks that kr can store, return and delete an entry, within timeout.
// A keychain call that never returns (an unlock prompt nobody answers) is
// abandoned: its goroutine ends whenever the keychain answers.
func probe(kr keyring, timeout time.Duration) error {
	if pre, ok := kr.(interface{ available() error }); ok {
		if err := pre.available(); err != nil {
			return err
		}
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	want := hex.EncodeToString(nonce[:])
	done := make(chan error, 1)
	go func() {
		if err := kr.Set(Service, probeAccount, want); err != nil {
			done <- err
			return
		}
		got, err := kr.Get(Service, probeAccount)
		delErr := kr.Delete(Service, probeAccount)
		switch {
		case err != nil:
			done <- err
		case got != want:
			done <- errors.New("the keychain returned a different value than it was given")
		default:
			done <- delErr
		}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("the keychain did not answer within %v (is it locked?)", timeout)
	}
}

// keychainBackend keeps values in a keychain and their names in an index
// file. The keychain is the truth for values, the index for names: a name
// deleted from the keychain by another program is dropped from the index
// the next time someone deletes it.
type keychainBackend struct {
	kr        keyring
	indexPath string
}

type keychainIndex struct {
	Version    int                 `json:"version"`
	Components map[string][]string `json:"components"`
}

func account(component, key string) string { return component + "/" + key }

func (b *keychainBackend) get(component, key string) (string, error) {
	return b.kr.Get(Service, account(component, key))
}

func (b *keychainBackend) set(component, key, value string) error {
	idx, err := b.load()
	if err != nil {
		return err
	}
	if err := b.kr.Set(Service, account(component, key), value); err != nil {
		return fmt.Errorf("keychain: %w", err)
	}
	if slices.Contains(idx.Components[component], key) {
		return nil
	}
	idx.Components[component] = append(idx.Components[component], key)
	if err := b.save(idx); err != nil {
		// An entry the index does not name could never be listed or
		// deleted with its component: take it back out.
		b.kr.Delete(Service, account(component, key))
		return err
	}
	return nil
}

func (b *keychainBackend) delete(component, key string) error {
	idx, err := b.load()
	if err != nil {
		return err
	}
	listed := slices.Contains(idx.Components[component], key)
	err = b.kr.Delete(Service, account(component, key))
	switch {
	case errors.Is(err, ErrNotFound) && !listed:
		return ErrNotFound
	case err != nil && !errors.Is(err, ErrNotFound):
		return fmt.Errorf("keychain: %w", err)
	case !listed:
		return nil // in the keychain but not indexed: now gone from both
	}
	idx.Components[component] = slices.DeleteFunc(idx.Components[component], func(k string) bool { return k == key })
	if len(idx.Components[component]) == 0 {
		delete(idx.Components, component)
	}
	return b.save(idx)
}

func (b *keychainBackend) list(component string) ([]string, error) {
	idx, err := b.load()
	if err != nil {
		return nil, err
	}
	return slices.Clone(idx.Components[component]), nil
}

func (b *keychainBackend) deleteAll(component string) error {
	idx, err := b.load()
	if err != nil {
		return err
	}
	keys := idx.Components[component]
	if len(keys) == 0 {
		return nil
	}
	var remaining []string
	var errs []error
	for _, key := range keys {
		err := b.kr.Delete(Service, account(component, key))
		if err != nil && !errors.Is(err, ErrNotFound) {
			remaining = append(remaining, key)
			errs = append(errs, fmt.Errorf("keychain: deleting %s: %w", key, err))
		}
	}
	if len(remaining) == 0 {
		delete(idx.Components, component)
	} else {
		idx.Components[component] = remaining
	}
	if err := b.save(idx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// count returns how many names the index holds (for the fallback warning).
func (b *keychainBackend) count() (int, error) {
	idx, err := b.load()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, keys := range idx.Components {
		n += len(keys)
	}
	return n, nil
}

func (b *keychainBackend) load() (keychainIndex, error) {
	idx := keychainIndex{Version: 1, Components: map[string][]string{}}
	data, err := os.ReadFile(b.indexPath)
	if errors.Is(err, os.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return idx, fmt.Errorf("reading the secrets index: %w", err)
	}
	err = json.Unmarshal(data, &idx)
	if err == nil && (idx.Version != 1 || !validIndex(idx)) {
		err = errUnexpected
	}
	if err != nil {
		return idx, fmt.Errorf("%w: the index of secret names %s %s; it was left as is: "+
			"move it aside and set the secrets again with `tapedeck secret set` (the values are still in the keychain under the service %q)",
			ErrCorrupt, b.indexPath, describeDecodeErr(err), Service)
	}
	if idx.Components == nil {
		idx.Components = map[string][]string{}
	}
	return idx, nil
}

func (b *keychainBackend) save(idx keychainIndex) error {
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("writing the secrets index: %w", err)
	}
	if err := atomicfile.WriteFile(b.indexPath, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the secrets index: %w", err)
	}
	return nil
}

func validIndex(idx keychainIndex) bool {
	for component, keys := range idx.Components {
		if validComponent(component) != nil {
			return false
		}
		for _, k := range keys {
			if validKey(k) != nil {
				return false
			}
		}
	}
	return true
}

// errUnexpected marks well-formed JSON that is not what we wrote.
var errUnexpected = errors.New("unexpected content")

// describeDecodeErr says what is wrong with a file without quoting it: a
// JSON error can carry bytes of the file, and the file may hold values.
func describeDecodeErr(err error) string {
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "is empty or cut short"
	case errors.As(err, &syntax):
		return fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset)
	default:
		return "does not have the expected structure"
	}
}
