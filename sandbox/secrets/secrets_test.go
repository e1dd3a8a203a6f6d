package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A value that must never show up in an error or a file it does not belong in.
const secretValue = "s3cr3t-Value-never-logged"

// fakeKeyring is an in-memory keychain; broken makes every call fail, hang
// makes every call block until the test ends.
type fakeKeyring struct {
	mu      sync.Mutex
	entries map[string]string
	broken  error
	hang    chan struct{}
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{entries: map[string]string{}} }

func (k *fakeKeyring) wait() error {
	if k.hang != nil {
		<-k.hang
	}
	return k.broken
}

func (k *fakeKeyring) Set(service, account, value string) error {
	if err := k.wait(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entries[service+"|"+account] = value
	return nil
}

func (k *fakeKeyring) Get(service, account string) (string, error) {
	if err := k.wait(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.entries[service+"|"+account]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (k *fakeKeyring) Delete(service, account string) error {
	if err := k.wait(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.entries[service+"|"+account]; !ok {
		return ErrNotFound
	}
	delete(k.entries, service+"|"+account)
	return nil
}

func (k *fakeKeyring) value(account string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.entries[Service+"|"+account]
	return v, ok
}

// backends opens a store of each kind over a fresh data dir.
func backends(t *testing.T) map[Backend]func(t *testing.T) (*Secrets, string) {
	return map[Backend]func(t *testing.T) (*Secrets, string){
		BackendFile: func(t *testing.T) (*Secrets, string) {
			dir := t.TempDir()
			s, err := Open(Options{Dir: dir, FileOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			return s, dir
		},
		BackendKeychain: func(t *testing.T) (*Secrets, string) {
			dir := t.TempDir()
			s, err := open(Options{Dir: dir}, newFakeKeyring(), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return s, dir
		},
	}
}

func TestStoreContract(t *testing.T) {
	for kind, openStore := range backends(t) {
		t.Run(string(kind), func(t *testing.T) {
			s, dir := openStore(t)
			if s.Backend() != kind {
				t.Fatalf("Backend = %s", s.Backend())
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			wantList := func(component string, want ...string) {
				t.Helper()
				got, err := s.List(component)
				must(err)
				if !slices.Equal(got, want) {
					t.Errorf("List(%s) = %q, want %q", component, got, want)
				}
			}
			wantList("weather")
			must(s.Set("weather", "API_KEY", "old"))
			must(s.Set("weather", "API_KEY", secretValue))
			must(s.Set("weather", "_A1", "second-value"))
			must(s.Set("mail", "TOKEN", "m"))
			if v, err := s.Get("weather", "API_KEY"); err != nil || v != secretValue {
				t.Fatalf("Get = %q, %v", v, err)
			}
			wantList("weather", "API_KEY", "_A1")
			must(s.Delete("weather", "_A1"))
			wantList("weather", "API_KEY")
			if _, err := s.Get("weather", "_A1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get deleted = %v, want ErrNotFound", err)
			}
			if err := s.Delete("weather", "_A1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Delete deleted = %v, want ErrNotFound", err)
			}
			must(s.DeleteAll("weather"))
			wantList("weather")
			if _, err := s.Get("weather", "API_KEY"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after DeleteAll = %v, want ErrNotFound", err)
			}
			must(s.DeleteAll("weather")) // nothing left: no error
			wantList("mail", "TOKEN")    // other components untouched

			// The value is in the redactor, and only the fallback file may
			// hold values on disk.
			if got := s.Redactor().String("key: " + secretValue); got != "key: "+Redacted {
				t.Errorf("redactor did not learn the value: %q", got)
			}
			must(s.Set("weather", "API_KEY", secretValue))
			assertValueOnlyIn(t, dir, map[Backend]string{BackendFile: fileName}[kind])
		})
	}
}

// assertValueOnlyIn checks that no file under dir except one named allowed
// holds secretValue.
func assertValueOnlyIn(t *testing.T, dir, allowed string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secretValue)) && d.Name() != allowed {
			t.Errorf("%s holds the secret value", p)
		}
		return nil
	})
}

func TestNamesValidated(t *testing.T) {
	tests := []struct {
		name, component, key string
	}{
		{name: "empty_component", component: "", key: "K"},
		{name: "slash_component", component: "a/b", key: "K"},
		{name: "dot_start_component", component: ".hidden", key: "K"},
		{name: "dotdot_component", component: "..", key: "K"},
		{name: "long_component", component: strings.Repeat("a", maxComponentLen+1), key: "K"},
		{name: "empty_key", component: "c", key: ""},
		{name: "digit_first_key", component: "c", key: "1KEY"},
		{name: "dash_key", component: "c", key: "API-KEY"},
		{name: "space_key", component: "c", key: "A B"},
		{name: "equals_key", component: "c", key: "A=B"},
		{name: "unicode_key", component: "c", key: "КЛЮЧ"},
	}
	s, err := Open(Options{Dir: t.TempDir(), FileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := []error{
				s.Set(tt.component, tt.key, secretValue),
				func() error { _, err := s.Get(tt.component, tt.key); return err }(),
				s.Delete(tt.component, tt.key),
			}
			for _, err := range errs {
				if !errors.Is(err, ErrInvalidName) {
					t.Errorf("err = %v, want ErrInvalidName", err)
				}
				if err != nil && strings.Contains(err.Error(), secretValue) {
					t.Errorf("error shows the value: %v", err)
				}
			}
		})
	}
	for _, ok := range []struct{ component, key string }{{"weather-rs", "API_KEY"}, {"a.b_c", "_x9"}, {"0", "k"}} {
		if err := s.Set(ok.component, ok.key, "v"); err != nil {
			t.Errorf("Set(%q, %q): %v", ok.component, ok.key, err)
		}
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no mode bits; the profile folder's ACL protects the file")
	}
	dir := t.TempDir()
	// A secrets folder someone loosened is tightened at Open.
	if err := os.Mkdir(filepath.Join(dir, folder), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Dir: dir, FileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("c", "K", secretValue); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, folder):           0o700,
		filepath.Join(dir, folder, fileName): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
	}
	// A file others can read is refused, not silently used.
	if err := os.Chmod(filepath.Join(dir, folder, fileName), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get("c", "K")
	if !errors.Is(err, ErrUnsafeFile) {
		t.Fatalf("Get from a 0644 file = %v, want ErrUnsafeFile", err)
	}
	if !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("error %q does not say how to fix it", err)
	}
	if _, err := Open(Options{Dir: dir, FileOnly: true}); !errors.Is(err, ErrUnsafeFile) {
		t.Errorf("Open over a 0644 file = %v, want ErrUnsafeFile", err)
	}
}

func TestCorruptFilesAreKept(t *testing.T) {
	contents := map[string]string{
		"not_json":        "this is " + secretValue + " not json",
		"cut_short":       `{"version":1,"components":{"c":{"K":"` + secretValue,
		"empty":           "",
		"wrong_shape":     `{"version":1,"components":{"c":"` + secretValue + `"}}`,
		"bad_key":         `{"version":1,"components":{"c":{"BAD-KEY":"` + secretValue + `"}}}`,
		"unknown_version": `{"version":7,"components":{}}`,
		"trailing":        `{"version":1,"components":{}} {"x":"` + secretValue + `"}`,
	}
	for name, content := range contents {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, folder, fileName)
			os.MkdirAll(filepath.Dir(path), 0o700)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(Options{Dir: dir, FileOnly: true})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error shows file content: %v", err)
			}
			// Writes through a store opened before the damage are refused too.
			s := &Secrets{b: &fileBackend{path: path}, kind: BackendFile, redactor: &Redactor{}}
			if err := s.Set("c", "OTHER", "v"); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Set = %v, want ErrCorrupt", err)
			}
			if err := s.DeleteAll("c"); !errors.Is(err, ErrCorrupt) {
				t.Errorf("DeleteAll = %v, want ErrCorrupt", err)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Errorf("damaged file was changed to %q", got)
			}
		})
	}
}

func TestCorruptIndexIsKept(t *testing.T) {
	dir := t.TempDir()
	kr := newFakeKeyring()
	s, err := open(Options{Dir: dir}, kr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("c", "K", secretValue); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, folder, indexName)
	damaged := []byte(`{"version":1,"components":{"c":["K", "bad name"]}}`)
	if err := os.WriteFile(index, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List("c"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("List = %v, want ErrCorrupt", err)
	}
	if err := s.Set("c", "K2", "v"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Set = %v, want ErrCorrupt", err)
	}
	if got, _ := os.ReadFile(index); !bytes.Equal(got, damaged) {
		t.Errorf("damaged index was changed to %q", got)
	}
	// Values are in the keychain, not in the index: still readable.
	if v, err := s.Get("c", "K"); err != nil || v != secretValue {
		t.Errorf("Get = %q, %v", v, err)
	}
	if _, ok := kr.value("c/K2"); ok {
		t.Error("Set wrote to the keychain although the index was damaged")
	}
}

func TestKeychainAccountsAndIndex(t *testing.T) {
	dir := t.TempDir()
	kr := newFakeKeyring()
	s, err := open(Options{Dir: dir}, kr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("weather", "API_KEY", secretValue); err != nil {
		t.Fatal(err)
	}
	if v, ok := kr.value("weather/API_KEY"); !ok || v != secretValue {
		t.Errorf("keychain entry weather/API_KEY = %q, %v", v, ok)
	}
	if _, ok := kr.value(probeAccount); ok {
		t.Error("the probe entry was left in the keychain")
	}
	idx, err := os.ReadFile(filepath.Join(dir, folder, indexName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(idx, []byte("API_KEY")) {
		t.Errorf("index does not name the key: %s", idx)
	}
	if _, err := os.Stat(filepath.Join(dir, folder, fileName)); !os.IsNotExist(err) {
		t.Errorf("a fallback file exists while the keychain works: %v", err)
	}
	// Removed behind our back (a keychain manager): Delete still clears the name.
	kr.Delete(Service, "weather/API_KEY")
	if err := s.Delete("weather", "API_KEY"); err != nil {
		t.Errorf("Delete of an entry gone from the keychain = %v", err)
	}
	if names, _ := s.List("weather"); len(names) != 0 {
		t.Errorf("List = %q after Delete", names)
	}
}

func TestOpenFallsBack(t *testing.T) {
	tests := []struct {
		name    string
		keyring func() *fakeKeyring
		reason  string
	}{
		{name: "keychain_errors", reason: "no secret service", keyring: func() *fakeKeyring {
			k := newFakeKeyring()
			k.broken = errors.New("no secret service")
			return k
		}},
		{name: "keychain_hangs", reason: "did not answer", keyring: func() *fakeKeyring {
			k := newFakeKeyring()
			k.hang = make(chan struct{})
			return k
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// An index left by an earlier run with a keychain.
			os.MkdirAll(filepath.Join(dir, folder), 0o700)
			os.WriteFile(filepath.Join(dir, folder, indexName), []byte(`{"version":1,"components":{"c":["A","B"]}}`), 0o600)
			kr := tt.keyring()
			if kr.hang != nil {
				defer close(kr.hang)
			}
			// The hang case ends by the timeout whatever its length; the
			// length does not decide the outcome.
			s, err := open(Options{Dir: dir}, kr, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if s.Backend() != BackendFile {
				t.Fatalf("Backend = %s, want file", s.Backend())
			}
			w := s.Warning()
			for _, want := range []string{"stored in a file", tt.reason, "gnome-keyring", "2 secret(s)"} {
				if !strings.Contains(w, want) {
					t.Errorf("Warning %q does not mention %q", w, want)
				}
			}
			if err := s.Set("c", "K", "v"); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Get("c", "K"); err != nil || v != "v" {
				t.Errorf("Get = %q, %v", v, err)
			}
		})
	}
}

func TestMigrateFileIntoKeychain(t *testing.T) {
	dir := t.TempDir()
	fileStore, err := Open(Options{Dir: dir, FileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	fileStore.Set("c", "A", secretValue)
	fileStore.Set("d", "B", "two")

	kr := newFakeKeyring()
	s, err := open(Options{Dir: dir}, kr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != BackendKeychain || !strings.Contains(s.Warning(), "moved 2") {
		t.Fatalf("Backend = %s, Warning = %q", s.Backend(), s.Warning())
	}
	if v, _ := kr.value("c/A"); v != secretValue {
		t.Errorf("c/A in keychain = %q", v)
	}
	if names, _ := s.List("d"); !slices.Equal(names, []string{"B"}) {
		t.Errorf("List(d) = %q", names)
	}
	if _, err := os.Stat(filepath.Join(dir, folder, fileName)); !os.IsNotExist(err) {
		t.Errorf("fallback file still there after the move: %v", err)
	}
	assertValueOnlyIn(t, dir, "")
}

func TestFileStoreRedactorKnowsStoredValues(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(Options{Dir: dir, FileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	first.Set("c", "K", secretValue)
	second, err := Open(Options{Dir: dir, FileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Redactor().String(secretValue); got != Redacted {
		t.Errorf("a freshly opened file store's redactor does not know the stored value: %q", got)
	}
}

func TestOpenNeedsDir(t *testing.T) {
	if _, err := Open(Options{}); err == nil {
		t.Fatal("Open with no Dir succeeded")
	}
}

func TestConcurrentUse(t *testing.T) {
	for kind, openStore := range backends(t) {
		t.Run(string(kind), func(t *testing.T) {
			s, _ := openStore(t)
			var wg sync.WaitGroup
			keys := []string{"A", "B", "C", "D", "E", "F"}
			for _, k := range keys {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.Set("c", k, "v-"+k); err != nil {
						t.Error(err)
					}
					if _, err := s.List("c"); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			names, err := s.List("c")
			if err != nil || !slices.Equal(names, keys) {
				t.Errorf("List = %q, %v; want %q", names, err, keys)
			}
		})
	}
}
