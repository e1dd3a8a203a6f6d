//go:build linux

package secrets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// inKeyringSessionEnv marks the test binary re-executed inside its own D-Bus
// session with an unlocked gnome-keyring (see TestKeyringReal).
const inKeyringSessionEnv = "TAPEDECK_TEST_IN_KEYRING_SESSION"

// requireKeyringEnv turns a missing keyring toolset into a failure; the
// Makefile sets it so CI cannot silently skip the real keychain.
const requireKeyringEnv = "TAPEDECK_REQUIRE_KEYRING"

// keyringScript unlocks a fresh login keyring (in the throwaway HOME) with a
// throwaway password, then runs the test binary ($0) in the same session.
// An empty password would make gnome-keyring ask a (missing) prompter.
const keyringScript = `printf '%s' "$TAPEDECK_TEST_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
exec "$0" -test.run='^TestKeyringReal$' -test.v`

// TestKeyringReal stores secrets in a real Secret Service keychain
// (gnome-keyring in a private D-Bus session) and checks them with
// secret-tool, independently of go-keyring.
func TestKeyringReal(t *testing.T) {
	if os.Getenv(inKeyringSessionEnv) == "1" {
		testInKeyringSession(t)
		return
	}
	var missing []string
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "secret-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		msg := "the real keychain test needs " + strings.Join(missing, ", ") +
			" (Debian packages dbus, gnome-keyring, libsecret-tools; scripts/install-deps.sh test installs them)"
		if os.Getenv(requireKeyringEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	runtimeDir := filepath.Join(home, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Only a guard against a wedged daemon: a healthy run takes a second.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c", keyringScript, exe)
	cmd.Env = append(withoutEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"),
		inKeyringSessionEnv+"=1",
		"TAPEDECK_TEST_KEYRING_PASSWORD=tapedeck-test-"+randomHex(),
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "share"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_RUNTIME_DIR="+runtimeDir,
		"GORACE=atexit_sleep_ms=0",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("keychain session failed: %v\n%s", err, out)
	}
	t.Logf("inside the keychain session:\n%s", out)
	if !strings.Contains(string(out), "--- PASS: TestKeyringReal") {
		t.Fatalf("the test did not pass inside the keychain session:\n%s", out)
	}
}

func testInKeyringSession(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != BackendKeychain {
		t.Fatalf("Backend = %s inside a keychain session; warning: %s", s.Backend(), s.Warning())
	}
	if w := s.Warning(); w != "" {
		t.Errorf("Warning = %q, want none", w)
	}
	value := "real-" + randomHex()
	if err := s.Set("weather", "API_KEY", value); err != nil {
		t.Fatal(err)
	}
	if got := secretToolLookup(t, "weather/API_KEY"); got != value {
		t.Fatalf("secret-tool lookup = %q, want the stored value", got)
	}
	if _, err := os.Stat(filepath.Join(dir, folder, fileName)); !os.IsNotExist(err) {
		t.Errorf("a fallback file exists: %v", err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), value) {
				t.Errorf("%s holds the value; it belongs in the keychain only", p)
			}
		}
		return err
	})

	// A second store over the same data dir (a restart) sees the same.
	again, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := again.Get("weather", "API_KEY"); err != nil || v != value {
		t.Fatalf("Get after reopening = %v", err)
	}
	if names, err := again.List("weather"); err != nil || !slices.Equal(names, []string{"API_KEY"}) {
		t.Fatalf("List = %q, %v", names, err)
	}

	if err := s.Set("weather", "API_KEY", value+"-2"); err != nil {
		t.Fatal(err)
	}
	if got := secretToolLookup(t, "weather/API_KEY"); got != value+"-2" {
		t.Errorf("after overwrite secret-tool lookup = %q", got)
	}
	if err := s.Delete("weather", "API_KEY"); err != nil {
		t.Fatal(err)
	}
	if got := secretToolLookup(t, "weather/API_KEY"); got != "" {
		t.Errorf("after Delete secret-tool still finds %q", got)
	}
	if _, err := s.Get("weather", "API_KEY"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}

	for _, k := range []string{"A", "B"} {
		if err := s.Set("mail", k, "v-"+k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAll("mail"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"A", "B"} {
		if got := secretToolLookup(t, "mail/"+k); got != "" {
			t.Errorf("after DeleteAll secret-tool still finds mail/%s", k)
		}
	}
}

// secretToolLookup reads an entry with secret-tool (libsecret), not through
// go-keyring; "" when there is none. go-keyring stores the account under
// the attribute "username".
func secretToolLookup(t *testing.T, account string) string {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", Service, "username", account).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(out) == 0 {
		return "" // secret-tool exits 1 when nothing matches
	}
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	return string(out)
}

func withoutEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(env, func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, name)
	})
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
