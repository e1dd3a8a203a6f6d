//go:build unix

package wasi

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// policyChecker decides by a policy alone, as a headless gate does, and
// records what it was asked.
type policyChecker struct {
	pol   *policy.Policy
	asked []policy.Access
}

func (c *policyChecker) Check(ctx context.Context, a policy.Access) error {
	c.asked = append(c.asked, a)
	if d := c.pol.Decide(a, policy.Protected{}); d.Verdict != policy.Allow {
		return &access.DeniedError{Access: a, Reason: d.String()}
	}
	return nil
}

func (c *policyChecker) CheckAddress(ctx context.Context, scheme string, ip netip.Addr, port uint16) error {
	return &access.DeniedError{Access: policy.Network{Scheme: scheme, Host: ip.String(), Port: port}, Reason: "test"}
}

// fsCaller is a caller whose calls are decided by a policy granting dir
// read and write and dir/ro read only.
func fsCaller(t *testing.T) (*caller, *policyChecker, string, types.Handle) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "ro"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"a.txt": "alpha", "ro/r.txt": "read only"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := policy.Parse([]byte(`version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs://` + dir + `/**"
        access: [read, write]
    deny:
      - uri: "fs://` + dir + `/ro/**"
        access: [write]
`))
	if err != nil {
		t.Fatal(err)
	}
	chk := &policyChecker{pol: pol}
	c := newCaller(t, New(Config{}))
	c.ctx = access.WithChecker(c.ctx, chk)
	pre := c.call("wasi:filesystem/preopens@0.2", "get-directories").([]any)
	if len(pre) != 1 || pre[0].([]any)[1] != "/" {
		t.Fatalf("preopens = %v, want one, /", pre)
	}
	return c, chk, dir, pre[0].([]any)[0].(types.Handle)
}

const fsIface = "wasi:filesystem/types@0.2"

// fsErr returns the error-code label of a result, or "" for ok.
func fsErr(t *testing.T, c *caller, v any) string {
	t.Helper()
	r := v.(types.VariantValue)
	if r.Case == 0 {
		return ""
	}
	return c.h.valueType("wasi:filesystem/types", "error-code").Labels[r.Value.(types.VariantValue).Case]
}

// rel strips the leading "/" as wasi-libc does for the "/" preopen.
func rel(p string) string { return strings.TrimPrefix(p, "/") }

func TestFilesystemOperations(t *testing.T) {
	c, chk, dir, root := fsCaller(t)
	open := func(p string, oflags, dflags uint32) any {
		return c.call(fsIface, "[method]descriptor.open-at", root, pathSymlinkFollow, p, oflags, dflags)
	}
	tests := []struct {
		name string
		do   func() any
		want string // error-code label, "" for ok
	}{
		{"AbsolutePathRefused", func() any { return open(dir+"/a.txt", 0, flagRead) }, "not-permitted"},
		{"ReadAllowed", func() any { return open(rel(dir+"/a.txt"), 0, flagRead) }, ""},
		{"ReadOutsideIsAccess", func() any { return open("etc/passwd", 0, flagRead) }, "access"},
		{"MissingOutsideIsAccess", func() any { return open("no/such/dir/file", 0, flagRead) }, "access"},
		{"MissingInsideIsNoEntry", func() any { return open(rel(dir+"/none"), 0, flagRead) }, "no-entry"},
		{"WriteUnderDenyIsAccess", func() any { return open(rel(dir+"/ro/r.txt"), 0, flagWrite) }, "access"},
		{"CreateExclusiveExisting", func() any { return open(rel(dir+"/a.txt"), openCreate|openExclusive, flagWrite) }, "exist"},
		{"DirectoryFlagOnFile", func() any { return open(rel(dir+"/a.txt"), openDirectory, flagRead) }, "not-directory"},
		{"TruncateWithoutWrite", func() any { return open(rel(dir+"/a.txt"), openTruncate, flagRead) }, "invalid"},
		{"MkdirInside", func() any {
			return c.call(fsIface, "[method]descriptor.create-directory-at", root, rel(dir+"/newdir"))
		}, ""},
		{"MkdirExisting", func() any {
			return c.call(fsIface, "[method]descriptor.create-directory-at", root, rel(dir+"/a.txt"))
		}, "exist"},
		{"UnlinkUnderDeny", func() any {
			return c.call(fsIface, "[method]descriptor.unlink-file-at", root, rel(dir+"/ro/r.txt"))
		}, "access"},
		{"RenameOutOfDeny", func() any {
			return c.call(fsIface, "[method]descriptor.rename-at", root, rel(dir+"/ro/r.txt"), root, rel(dir+"/stolen.txt"))
		}, "access"},
		{"RenameIntoDeny", func() any {
			return c.call(fsIface, "[method]descriptor.rename-at", root, rel(dir+"/a.txt"), root, rel(dir+"/ro/a.txt"))
		}, "access"},
		{"HardLinkFromOutside", func() any {
			return c.call(fsIface, "[method]descriptor.link-at", root, uint32(0), "etc/hostname", root, rel(dir+"/hostname"))
		}, "access"},
		{"HardLinkFromReadOnly", func() any {
			return c.call(fsIface, "[method]descriptor.link-at", root, uint32(0), rel(dir+"/ro/r.txt"), root, rel(dir+"/r-link"))
		}, "access"},
		{"HardLinkInside", func() any {
			return c.call(fsIface, "[method]descriptor.link-at", root, uint32(0), rel(dir+"/a.txt"), root, rel(dir+"/a-link"))
		}, ""},
		{"SymlinkIntoDeny", func() any {
			return c.call(fsIface, "[method]descriptor.symlink-at", root, "/etc/passwd", rel(dir+"/ro/evil"))
		}, "access"},
		{"StatOutside", func() any {
			return c.call(fsIface, "[method]descriptor.stat-at", root, pathSymlinkFollow, "etc/passwd")
		}, "access"},
		{"StatInside", func() any {
			return c.call(fsIface, "[method]descriptor.stat-at", root, pathSymlinkFollow, rel(dir+"/a.txt"))
		}, ""},
		{"ReadlinkOfFile", func() any {
			return c.call(fsIface, "[method]descriptor.readlink-at", root, rel(dir+"/a.txt"))
		}, "invalid"},
		{"RemoveRootItself", func() any {
			return c.call(fsIface, "[method]descriptor.remove-directory-at", root, rel(dir)+"/..")
		}, "access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fsErr(t, c, tt.do()); got != tt.want {
				t.Errorf("error-code %q, want %q (asked %v)", got, tt.want, chk.asked)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "ro", "r.txt")); err != nil {
		t.Errorf("the read-only file was touched: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "hostname")); !os.IsNotExist(err) {
		t.Errorf("a refused hard link was made: %v", err)
	}
}

func TestFilesystemDescriptorModes(t *testing.T) {
	c, _, dir, root := fsCaller(t)
	res := c.call(fsIface, "[method]descriptor.open-at", root, pathSymlinkFollow, rel(dir+"/a.txt"), uint32(0), flagRead).(types.VariantValue)
	if res.Case != 0 {
		t.Fatalf("open-at = %v", res)
	}
	rd := res.Value.(types.Handle)
	if got := fsErr(t, c, c.call(fsIface, "[method]descriptor.write", rd, []any{uint8('x')}, uint64(0))); got != "bad-descriptor" {
		t.Errorf("write on a read descriptor = %q, want bad-descriptor", got)
	}
	if got := fsErr(t, c, c.call(fsIface, "[method]descriptor.write-via-stream", rd, uint64(0))); got != "bad-descriptor" {
		t.Errorf("write-via-stream on a read descriptor = %q, want bad-descriptor", got)
	}
	if got := fsErr(t, c, c.call(fsIface, "[method]descriptor.set-size", rd, uint64(0))); got != "bad-descriptor" {
		t.Errorf("set-size on a read descriptor = %q, want bad-descriptor", got)
	}
	r := c.call(fsIface, "[method]descriptor.read", rd, uint64(100), uint64(0)).(types.VariantValue)
	if r.Case != 0 {
		t.Fatalf("read = %v", r)
	}
	tup := r.Value.([]any)
	if got, _ := bytesArg(tup[0], "test"); string(got) != "alpha" || tup[1] != true {
		t.Errorf("read = %q, eof %v; want alpha, true", got, tup[1])
	}
	if got := fsErr(t, c, c.call(fsIface, "[method]descriptor.read-directory", rd)); got != "not-directory" {
		t.Errorf("read-directory of a file = %q, want not-directory", got)
	}
	if got := fsErr(t, c, c.call(fsIface, "[method]descriptor.open-at", rd, uint32(0), "x", uint32(0), flagRead)); got != "not-directory" {
		t.Errorf("open-at relative to a file = %q, want not-directory", got)
	}

	// After the policy stops allowing it, the open descriptor is refused too.
	c.ctx = access.WithChecker(c.ctx, &policyChecker{pol: policy.New()})
	if got := fsErr(t, c, c.call(fsIface, "[method]descriptor.read", rd, uint64(1), uint64(0))); got != "access" {
		t.Errorf("read once the policy no longer allows it = %q, want access", got)
	}
}

func TestFilesystemErrorCodes(t *testing.T) {
	h := New(Config{})
	labels := h.valueType("wasi:filesystem/types", "error-code").Labels
	known := map[string]bool{}
	for _, l := range labels {
		known[l] = true
	}
	for errno, label := range errnoCodes {
		if !known[label] {
			t.Errorf("%v maps to %q, which error-code does not have", errno, label)
		}
	}
	tests := []struct {
		name string
		err  error
		want string
		ok   bool
	}{
		{"NoEntry", unix.ENOENT, "no-entry", true},
		{"Access", unix.EACCES, "access", true},
		{"ReadOnlyFS", unix.EROFS, "read-only", true},
		{"Wrapped", &os.PathError{Op: "open", Path: "x", Err: unix.ENOTEMPTY}, "not-empty", true},
		{"UnknownErrnoIsIO", unix.Errno(0x7fff), "io", true},
		{"Denied", &access.DeniedError{Access: policy.Storage{Path: "/x"}}, "access", true},
		{"Closed", os.ErrClosed, "bad-descriptor", true},
		{"CancelledEndsTheCall", context.Canceled, "", false},
		{"LimitEndsTheCall", &LimitError{What: "x", Setting: "y"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fsCode(tt.err)
			if got != tt.want || ok != tt.ok {
				t.Errorf("fsCode(%v) = %q, %v; want %q, %v", tt.err, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestFilesystemWalkErrorsSayNothingOutside: a link planted inside the grant
// that points at a missing folder outside it answers access, not no-entry,
// so the guest cannot probe what exists outside.
func TestFilesystemWalkErrorsSayNothingOutside(t *testing.T) {
	c, _, dir, root := fsCaller(t)
	outside := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "missing"), filepath.Join(dir, "probe")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path string }{
		{"MissingFolderBehindLink", rel(dir + "/probe/x")},
		{"MissingFileBehindLink", rel(dir + "/probe")},
		{"MissingDeepBehindLink", rel(dir + "/out/a/b/c")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.call(fsIface, "[method]descriptor.open-at", root, pathSymlinkFollow, tt.path, uint32(0), flagRead)
			if got := fsErr(t, c, res); got != "access" {
				t.Errorf("open-at %s = %q, want access", tt.path, got)
			}
		})
	}
}
