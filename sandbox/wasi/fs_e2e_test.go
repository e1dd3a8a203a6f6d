//go:build unix

package wasi_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// These tests run c-files (wasi-libc's open, read, readdir and write, through
// the preview1 adapter) against the real file system, with each call's
// accesses decided by a sandbox.Gate, as the Host decides them.

// fsFixture is a folder laid out for the attacks:
//
//	root/grant/         read and write allowed
//	root/grant/.git/    denied by a deny rule
//	root/readonly/      read allowed
//	root/secret/        named by no rule
//	root/protected/     Tapedeck's own folder
type fsFixture struct {
	root, grant, readonly, secret, protected string
}

func newFSFixture(t *testing.T) fsFixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := fsFixture{
		root:      root,
		grant:     filepath.Join(root, "grant"),
		readonly:  filepath.Join(root, "readonly"),
		secret:    filepath.Join(root, "secret"),
		protected: filepath.Join(root, "protected"),
	}
	files := map[string]string{
		"grant/hello.txt":       "hello from the grant",
		"grant/sub/deep.txt":    "deep",
		"grant/.git/config":     "[core] secret git config",
		"readonly/notes.txt":    "read me",
		"secret/s.txt":          "TOP SECRET",
		"protected/keyring.txt": "TAPEDECK OWN",
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// policy returns the fixture's policy: the grant read-write with .git
// denied, readonly read-only.
func (f fsFixture) policy(t *testing.T) *policy.Policy {
	t.Helper()
	return mustPolicy(t, fmt.Sprintf(`version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs://%[1]s/**"
        access: [read, write]
      - uri: "fs://%[2]s/**"
        access: [read]
    deny:
      - uri: "fs://%[1]s/.git/**"
        access: [read, write]
`, f.grant, f.readonly))
}

func mustPolicy(t *testing.T, text string) *policy.Policy {
	t.Helper()
	pol, err := policy.Parse([]byte(text))
	if err != nil {
		t.Fatalf("test policy: %v\n%s", err, text)
	}
	return pol
}

// filesRunner calls c-files's exports with a gate's checker in the call's ctx.
type filesRunner struct {
	host *wasi.Host
	comp *component.Component
}

func newFilesRunner(t *testing.T) *filesRunner {
	t.Helper()
	host := wasi.New(wasi.Config{})
	rt := newRuntime(t, host)
	return &filesRunner{host: host, comp: compile(t, rt, testcomponents.CFiles)}
}

// result is a c-files result<T, string>: ok holds T, msg the error text.
type result struct {
	ok  any
	msg string
	err error // the call trapped
}

func (r result) failed() bool { return r.err != nil || r.msg != "" }

func (fr *filesRunner) call(ctx context.Context, t *testing.T, cg *sandbox.CallGate, fn string, args ...any) result {
	t.Helper()
	ctx = access.WithChecker(ctx, cg)
	inst, err := fr.comp.Instantiate(ctx, component.InstantiateOptions{})
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	defer inst.Close(context.Background())
	return fr.callIn(ctx, t, inst, fn, args...)
}

func (fr *filesRunner) callIn(ctx context.Context, t *testing.T, inst *component.Instance, fn string, args ...any) result {
	t.Helper()
	res, err := inst.Call(ctx, fr.comp.Func(fn), args)
	if err != nil {
		return result{err: err}
	}
	v := res[0].(types.VariantValue)
	if v.Case == 1 {
		return result{msg: v.Value.(string)}
	}
	return result{ok: v.Value}
}

func newGate(pol *policy.Policy, protected string, p sandbox.Prompter, policyPath string) *sandbox.Gate {
	var prot policy.Protected
	if protected != "" {
		prot, _ = policy.NewProtected(protected)
	}
	return sandbox.NewGate(sandbox.GateConfig{Component: "c-files", Policy: pol, PolicyPath: policyPath, Protected: prot, Prompter: p})
}

func TestFilesystemDecidedByPolicy(t *testing.T) {
	fr := newFilesRunner(t)
	f := newFSFixture(t)
	mustSymlink(t, filepath.Join(f.secret, "s.txt"), filepath.Join(f.grant, "to-secret"))
	mustSymlink(t, "../secret", filepath.Join(f.grant, "secret-dir"))
	mustSymlink(t, ".git/config", filepath.Join(f.grant, "to-git"))
	mustSymlink(t, "hello.txt", filepath.Join(f.grant, "to-hello"))
	mustSymlink(t, filepath.Join(f.grant, "to-secret"), filepath.Join(f.grant, "chain"))
	gate := newGate(f.policy(t), f.protected, nil, "")

	tests := []struct {
		name    string
		fn      string
		args    []any
		want    string // the ok text (read-file), or a name the listing holds
		refused string // the path the gate must have denied
		errno   string // the guest's strerror
	}{
		{name: "ReadInsideGrant", fn: "read-file", args: []any{f.grant + "/hello.txt"}, want: "hello from the grant"},
		{name: "ReadDeepInsideGrant", fn: "read-file", args: []any{f.grant + "/sub/deep.txt"}, want: "deep"},
		{name: "ReadThroughLinkInsideGrant", fn: "read-file", args: []any{f.grant + "/to-hello"}, want: "hello from the grant"},
		{name: "ReadWithDotsStayingInside", fn: "read-file", args: []any{f.grant + "/sub/../hello.txt"}, want: "hello from the grant"},
		{name: "ListInsideGrant", fn: "list-dir", args: []any{f.grant}, want: "hello.txt"},
		{name: "ReadOnlyGrantReads", fn: "read-file", args: []any{f.readonly + "/notes.txt"}, want: "read me"},
		{name: "ReadOutside", fn: "read-file", args: []any{f.secret + "/s.txt"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "ListOutside", fn: "list-dir", args: []any{f.secret}, refused: f.secret, errno: "Permission denied"},
		{name: "DotDotOut", fn: "read-file", args: []any{f.grant + "/../secret/s.txt"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "ManyDotDotsOut", fn: "read-file", args: []any{f.grant + "/sub/../../../../../" + f.secret + "/s.txt"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "AbsoluteLinkOut", fn: "read-file", args: []any{f.grant + "/to-secret"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "LinkChainOut", fn: "read-file", args: []any{f.grant + "/chain"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "RelativeDirLinkOut", fn: "read-file", args: []any{f.grant + "/secret-dir/s.txt"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "ListThroughDirLinkOut", fn: "list-dir", args: []any{f.grant + "/secret-dir"}, refused: f.secret, errno: "Permission denied"},
		{name: "DenyRuleHoldsThroughLink", fn: "read-file", args: []any{f.grant + "/to-git"}, refused: f.grant + "/.git/config", errno: "Permission denied"},
		{name: "DenyRuleDirect", fn: "read-file", args: []any{f.grant + "/.git/config"}, refused: f.grant + "/.git/config", errno: "Permission denied"},
		{name: "MissingOutsideSaysDenied", fn: "read-file", args: []any{f.secret + "/nope/x"}, refused: f.secret + "/nope/x", errno: "Permission denied"},
		{name: "MissingInsideSaysNoEntry", fn: "read-file", args: []any{f.grant + "/nope.txt"}, errno: "No such file or directory"},
		{name: "WriteUnderReadGrant", fn: "write-file", args: []any{f.readonly + "/notes.txt", "overwritten"}, refused: f.readonly + "/notes.txt", errno: "Permission denied"},
		{name: "CreateUnderReadGrant", fn: "write-file", args: []any{f.readonly + "/new.txt", "x"}, refused: f.readonly + "/new.txt", errno: "Permission denied"},
		{name: "WriteThroughLinkOut", fn: "write-file", args: []any{f.grant + "/to-secret", "pwned"}, refused: f.secret + "/s.txt", errno: "Permission denied"},
		{name: "WriteIntoDeniedGit", fn: "write-file", args: []any{f.grant + "/.git/hooks-pre-commit", "x"}, refused: f.grant + "/.git/hooks-pre-commit", errno: "Permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cg := gate.ForCall(tt.fn, sandbox.Client{Name: "test"})
			r := fr.call(context.Background(), t, cg, tt.fn, tt.args...)
			if r.err != nil {
				t.Fatalf("the call trapped: %v", r.err)
			}
			if tt.refused == "" && tt.errno == "" {
				if r.failed() {
					t.Fatalf("%s%v = error %q, want success", tt.fn, tt.args, r.msg)
				}
				if !resultHas(r.ok, tt.want) {
					t.Errorf("%s%v = %v, want %q", tt.fn, tt.args, r.ok, tt.want)
				}
				return
			}
			if !r.failed() {
				t.Fatalf("%s%v succeeded with %v, want %q", tt.fn, tt.args, r.ok, tt.errno)
			}
			if !strings.Contains(r.msg, tt.errno) {
				t.Errorf("guest error %q, want %q", r.msg, tt.errno)
			}
			if tt.refused != "" && !deniedPath(cg, tt.refused) {
				t.Errorf("denials %v, want one for %s", cg.Denials(), tt.refused)
			}
		})
	}

	t.Run("WritesLandOnDisk", func(t *testing.T) {
		cg := gate.ForCall("write-file", sandbox.Client{Name: "test"})
		p := filepath.Join(f.grant, "sub", "out.txt")
		if r := fr.call(context.Background(), t, cg, "write-file", p, "written by the guest"); r.failed() {
			t.Fatalf("write-file = %q %v", r.msg, r.err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != "written by the guest" {
			t.Errorf("file holds %q (%v)", got, err)
		}
	})
	t.Run("RefusedWritesChangeNothing", func(t *testing.T) {
		for _, p := range []string{f.secret + "/s.txt", f.readonly + "/notes.txt"} {
			before := map[string]string{f.secret + "/s.txt": "TOP SECRET", f.readonly + "/notes.txt": "read me"}[p]
			if got, _ := os.ReadFile(p); string(got) != before {
				t.Errorf("%s holds %q, want %q", p, got, before)
			}
		}
		if _, err := os.Stat(f.readonly + "/new.txt"); !os.IsNotExist(err) {
			t.Errorf("a refused create left a file: %v", err)
		}
	})
}

// TestFilesystemProtectedFolders: a policy granting everything ("fs:///**")
// still does not reach Tapedeck's own folders, through the gate's Protected.
func TestFilesystemProtectedFolders(t *testing.T) {
	fr := newFilesRunner(t)
	f := newFSFixture(t)
	mustSymlink(t, f.protected+"/keyring.txt", f.grant+"/to-protected")
	pol := mustPolicy(t, `version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///**"
        access: [read, write]
`)
	gate := newGate(pol, f.protected, nil, "")
	tests := []struct {
		name, fn string
		args     []any
	}{
		{"Read", "read-file", []any{f.protected + "/keyring.txt"}},
		{"ReadThroughLink", "read-file", []any{f.grant + "/to-protected"}},
		{"List", "list-dir", []any{f.protected}},
		{"Write", "write-file", []any{f.protected + "/planted.txt", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cg := gate.ForCall(tt.fn, sandbox.Client{Name: "test"})
			r := fr.call(context.Background(), t, cg, tt.fn, tt.args...)
			if !r.failed() || !strings.Contains(r.msg, "Permission denied") {
				t.Fatalf("%s%v = %v %q %v, want Permission denied", tt.fn, tt.args, r.ok, r.msg, r.err)
			}
			if len(cg.Denials()) == 0 {
				t.Error("no denial recorded")
			}
		})
	}
	t.Run("ElsewhereAllowed", func(t *testing.T) {
		cg := gate.ForCall("read-file", sandbox.Client{Name: "test"})
		if r := fr.call(context.Background(), t, cg, "read-file", f.secret+"/s.txt"); r.failed() {
			t.Fatalf("fs:///** should allow %s: %q %v", f.secret, r.msg, r.err)
		}
	})
}

// TestFilesystemSymlinkSwapRace flips a link between an allowed file and a
// secret one while the guest reads it in a loop: each read either is
// refused or returns the allowed file, never the secret.
func TestFilesystemSymlinkSwapRace(t *testing.T) {
	fr := newFilesRunner(t)
	f := newFSFixture(t)
	pol := mustPolicy(t, fmt.Sprintf(`version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs://%s/**"
        access: [read]
`, f.grant))
	gate := newGate(pol, "", nil, "")
	link := filepath.Join(f.grant, "flip")
	mustSymlink(t, "hello.txt", link)

	stop := make(chan struct{})
	var flips atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		targets := []string{filepath.Join(f.secret, "s.txt"), "hello.txt"}
		tmp := link + ".tmp"
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			os.Remove(tmp)
			if err := os.Symlink(targets[i%2], tmp); err != nil {
				continue
			}
			if os.Rename(tmp, link) == nil { // atomic swap
				flips.Add(1)
			}
		}
	}()

	ctx := context.Background()
	cg := gate.ForCall("read-file", sandbox.Client{Name: "test"})
	inst, err := fr.comp.Instantiate(access.WithChecker(ctx, cg), component.InstantiateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	var allowed, refused int
	for i := 0; i < 400; i++ {
		// A fresh gate view per read: a refusal is not remembered, so
		// every read is decided afresh against the link as it is then.
		cg := gate.ForCall("read-file", sandbox.Client{Name: "test"})
		r := fr.callIn(access.WithChecker(ctx, cg), t, inst, "read-file", link)
		switch {
		case r.err != nil:
			t.Fatalf("read %d trapped: %v", i, r.err)
		case r.msg != "":
			refused++
		case strings.Contains(r.ok.(string), "SECRET"):
			t.Fatalf("read %d returned the secret through the swapped link", i)
		default:
			allowed++
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d flips; %d reads allowed, %d refused", flips.Load(), allowed, refused)
	if flips.Load() == 0 {
		t.Error("the link was never swapped: the race was not exercised")
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// resultHas reports whether a read-file string equals want or a list-dir
// list holds it.
func resultHas(v any, want string) bool {
	switch v := v.(type) {
	case string:
		return v == want
	case []any:
		for _, e := range v {
			if e == want {
				return true
			}
		}
	}
	return false
}

func deniedPath(cg *sandbox.CallGate, p string) bool {
	for _, d := range cg.Denials() {
		if s, ok := d.Access.(policy.Storage); ok && s.Path == p {
			return true
		}
	}
	return false
}

// TestFilesystemPrompterFlows asks a scripted person about a read the
// policy does not settle, through a real component and the gate.
func TestFilesystemPrompterFlows(t *testing.T) {
	fr := newFilesRunner(t)
	answer := func(a sandbox.Answer) sandbox.Prompter {
		return sandbox.PrompterFunc(func(context.Context, sandbox.AccessRequest) (sandbox.Answer, error) { return a, nil })
	}
	// waitForEnd answers nothing: it returns when the question's ctx ends.
	waitForEnd := sandbox.PrompterFunc(func(ctx context.Context, _ sandbox.AccessRequest) (sandbox.Answer, error) {
		<-ctx.Done()
		return sandbox.Deny, ctx.Err()
	})
	tests := []struct {
		name       string
		prompter   func(cancel context.CancelFunc) sandbox.Prompter
		wantRead   bool
		wantRule   bool // an allow rule for the file is saved
		wantTrap   bool // the call ends (cancelled)
		wantReason string
	}{
		{name: "AllowOnce", prompter: func(context.CancelFunc) sandbox.Prompter { return answer(sandbox.AllowOnce) }, wantRead: true},
		{name: "AllowAlways", prompter: func(context.CancelFunc) sandbox.Prompter { return answer(sandbox.AllowAlways) }, wantRead: true, wantRule: true},
		{name: "Deny", prompter: func(context.CancelFunc) sandbox.Prompter { return answer(sandbox.Deny) }, wantReason: "answered deny"},
		{name: "Timeout", prompter: func(context.CancelFunc) sandbox.Prompter { return waitForEnd }, wantReason: "no answer within"},
		{name: "CancelledWhileAsked", prompter: func(cancel context.CancelFunc) sandbox.Prompter {
			return sandbox.PrompterFunc(func(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
				cancel() // the client gives up on the call while the question is open
				return waitForEnd(ctx, req)
			})
		}, wantTrap: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFSFixture(t)
			policyPath := filepath.Join(f.root, "policy.yaml")
			const original = "# kept comment\nversion: \"1.0\"\npermissions: {}\n"
			if err := os.WriteFile(policyPath, []byte(original), 0o644); err != nil {
				t.Fatal(err)
			}
			pol := mustPolicy(t, original)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			gate := sandbox.NewGate(sandbox.GateConfig{Component: "c-files", Policy: pol, PolicyPath: policyPath,
				Prompter: tt.prompter(cancel), PromptTimeout: 20 * time.Millisecond})
			cg := gate.ForCall("read-file", sandbox.Client{Name: "test"})
			target := f.secret + "/s.txt"
			r := fr.call(ctx, t, cg, "read-file", target)
			switch {
			case tt.wantTrap:
				if r.err == nil {
					t.Fatalf("the call went on after it was cancelled: %v %q", r.ok, r.msg)
				}
			case tt.wantRead:
				if r.failed() || r.ok != "TOP SECRET" {
					t.Fatalf("read-file = %v %q %v, want the file", r.ok, r.msg, r.err)
				}
			default:
				if !r.failed() || r.err != nil {
					t.Fatalf("read-file = %v %q %v, want a refusal", r.ok, r.msg, r.err)
				}
				if d := cg.Denials(); len(d) == 0 || !strings.Contains(d[0].Reason, tt.wantReason) {
					t.Errorf("denials %v, want one saying %q", d, tt.wantReason)
				}
			}
			saved, err := os.ReadFile(policyPath)
			if err != nil {
				t.Fatal(err)
			}
			hasRule := strings.Contains(string(saved), "fs://"+target)
			if hasRule != tt.wantRule {
				t.Errorf("policy file has the rule: %v, want %v:\n%s", hasRule, tt.wantRule, saved)
			}
			if tt.wantRule && !strings.HasPrefix(string(saved), "# kept comment") {
				t.Errorf("the policy's comment was lost:\n%s", saved)
			}
		})
	}
}

// envAsNobody marks the re-run of TestFilesystemOSRefusal as the user nobody.
const envAsNobody = "TAPEDECK_TEST_FS_AS_NOBODY"

// TestFilesystemOSRefusal: where the policy allows a write but the OS does
// not (a read-only file of another user), the guest gets the OS's answer as
// error-code access ("Permission denied"), not a crash. Root may write any
// file, so as root (CI) the test re-runs itself as nobody with setpriv.
func TestFilesystemOSRefusal(t *testing.T) {
	if os.Geteuid() == 0 && os.Getenv(envAsNobody) == "" {
		rerunAsNobody(t, "TestFilesystemOSRefusal")
		return
	}
	t.Logf("running as uid %d", os.Geteuid())
	fr := newFilesRunner(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked.txt")
	if err := os.WriteFile(locked, []byte("unchanged"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil { // and no new files either
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	pol := mustPolicy(t, fmt.Sprintf("version: \"1.0\"\npermissions:\n  storage:\n    allow:\n      - uri: \"fs://%s/**\"\n        access: [read, write]\n", dir))
	gate := newGate(pol, "", nil, "")
	for _, p := range []string{locked, filepath.Join(dir, "new.txt")} {
		cg := gate.ForCall("write-file", sandbox.Client{Name: "test"})
		r := fr.call(context.Background(), t, cg, "write-file", p, "changed")
		if r.err != nil || !strings.Contains(r.msg, "Permission denied") {
			t.Errorf("write-file %s = %v %q %v, want Permission denied from the OS", p, r.ok, r.msg, r.err)
		}
		if d := cg.Denials(); len(d) != 0 {
			t.Errorf("the gate denied %v; the policy allows it, the OS should refuse", d)
		}
	}
	if got, _ := os.ReadFile(locked); string(got) != "unchanged" {
		t.Errorf("the read-only file now holds %q", got)
	}
}

// rerunAsNobody runs the test binary's test named test as the user nobody,
// and fails t with its output if it fails.
func rerunAsNobody(t *testing.T, test string) {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("running as root, this test needs setpriv (util-linux, in scripts/install-deps.sh) to drop to nobody: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary sits in a folder only root may enter: copy it out.
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "wasi.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = []string{envAsNobody + "=1", "PATH=" + os.Getenv("PATH"), "TMPDIR=/tmp",
		testcomponents.EnvDir + "=" + testcomponents.Dir(t)} // no shared compilation cache: nobody cannot write root's
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}
