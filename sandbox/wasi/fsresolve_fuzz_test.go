//go:build unix

package wasi

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzResolveAt resolves random paths among random links and checks that
// the path resolveAt reports — the one the policy decides — is exactly the
// object it leaves open to act on, whatever the links do: never a different
// file, never a path with a link left in it, and the same answer as the
// kernel's own resolution.
//
// links is "name>target" pairs separated by "|": each makes a link
// allowed/NAME (NAME: one of l0…l3, sub/l0…) pointing at TARGET.
func FuzzResolveAt(f *testing.F) {
	f.Add("a.txt", "", true)
	f.Add("l0", "l0>../outside/secret.txt", true)
	f.Add("l0/secret.txt", "l0>../outside", true)
	f.Add("sub/l1/../a.txt", "sub/l1>../../outside", true)
	f.Add("l0", "l0>l1|l1>l0", true)
	f.Add("l2/x", "l2>/", false)
	f.Add("../../../../outside/secret.txt", "", true)
	f.Add("sub/../l3", "l3>sub/b.txt", false)
	f.Add("l0/", "l0>sub", false)
	f.Fuzz(func(t *testing.T, p, links string, follow bool) {
		if len(p) > 512 || len(links) > 512 {
			return
		}
		base := fuzzTree(t, links)
		allowed := filepath.Join(base, "allowed")
		fd, err := unix.Open(allowed, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		r, err := resolveAt(fd, allowed, p, follow)
		if err != nil {
			var code codeError
			var errno unix.Errno
			if !errors.As(err, &code) && !errors.As(err, &errno) {
				t.Fatalf("resolveAt(%q) = %T %v, want an errno or a code", p, err, err)
			}
			return
		}
		defer r.close()
		if !path.IsAbs(r.path) || path.Clean(r.path) != r.path {
			t.Fatalf("resolveAt(%q) decided %q, not a clean absolute path", p, r.path)
		}
		// No link is left in the directory part: it is the real path.
		if real, err := filepath.EvalSymlinks(r.dirPath); err != nil || real != r.dirPath {
			t.Fatalf("resolveAt(%q): directory %q really is %q (%v)", p, r.dirPath, real, err)
		}
		// The open directory is the directory the path names.
		var open, named unix.Stat_t
		if err := unix.Fstat(r.dir, &open); err != nil {
			t.Fatal(err)
		}
		if err := unix.Lstat(r.dirPath, &named); err != nil || open.Dev != named.Dev || open.Ino != named.Ino {
			t.Fatalf("resolveAt(%q): the open directory is not %s (%v)", p, r.dirPath, err)
		}
		// The entry acted on is the entry the decided path names.
		var entry unix.Stat_t
		entryErr := unix.Fstatat(r.dir, r.name, &entry, unix.AT_SYMLINK_NOFOLLOW)
		namedErr := unix.Lstat(r.path, &named)
		if r.exists != (entryErr == nil) || (entryErr == nil) != (namedErr == nil) {
			t.Fatalf("resolveAt(%q) → %s exists=%v; entry %v, path %v", p, r.path, r.exists, entryErr, namedErr)
		}
		if r.exists && (entry.Dev != named.Dev || entry.Ino != named.Ino) {
			t.Fatalf("resolveAt(%q): the entry acted on is not %s", p, r.path)
		}
		if r.exists && follow && entry.Mode&unix.S_IFMT == unix.S_IFLNK {
			t.Fatalf("resolveAt(%q, follow) left a link at %s", p, r.path)
		}
		// The kernel agrees on where the path leads.
		if follow && r.exists {
			if want, err := filepath.EvalSymlinks(filepath.Join(allowed, p)); err == nil && want != r.path && !strings.Contains(p, "..") {
				t.Fatalf("resolveAt(%q) = %s, the kernel says %s", p, r.path, want)
			}
		}
	})
}

// fuzzTree makes base/allowed/{a.txt,sub/b.txt}, base/outside/secret.txt
// and the links spec asks for, and returns base.
func fuzzTree(t *testing.T, spec string) string {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"allowed/a.txt": "a", "allowed/sub/b.txt": "b", "outside/secret.txt": "secret"} {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, n := range []string{"l0", "l1", "l2", "l3"} {
		names[n], names["sub/"+n] = true, true
	}
	for _, pair := range strings.Split(spec, "|") {
		name, target, ok := strings.Cut(pair, ">")
		if !ok || !names[name] || target == "" || strings.ContainsRune(target, 0) {
			continue
		}
		_ = os.Symlink(target, filepath.Join(base, "allowed", name)) // a repeated name keeps the first
	}
	return base
}
