package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// servedCall makes one call of test component name as a served call makes
// it: through a Host over a component folder, with policy pol (empty:
// none) applied as the person's own.
func servedCall(t *testing.T, name, pol, tool, args string) *sandbox.CallResult {
	t.Helper()
	ctx := context.Background()
	h, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), CacheDir: testcomponents.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	src := t.TempDir()
	wasm, err := os.ReadFile(testcomponents.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(src, name+".wasm")
	if err := os.WriteFile(path, wasm, 0o600); err != nil {
		t.Fatal(err)
	}
	if pol != "" {
		if err := os.WriteFile(filepath.Join(src, "policy.yaml"), []byte(pol), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Load(ctx, path, sandbox.LoadOptions{Client: person, TrustBundledPolicy: true}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Call(ctx, sandbox.CallRequest{Tool: tool, Args: json.RawMessage(args), Client: person})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCallSaysWhatAServedCallSays: `tapedeck call` goes through the Host,
// so a failure, a refused access, a memory limit and the output cap read
// exactly as they do in a served call's result.
func TestCallSaysWhatAServedCallSays(t *testing.T) {
	note := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(note, []byte("the note"), 0o600); err != nil {
		t.Fatal(err)
	}
	note, _ = filepath.EvalSymlinks(note)
	memory := "version: \"1.0\"\npermissions:\n  resources:\n    limits:\n      memory: \"16Mi\"\n"
	tests := []struct {
		name, component, policy, tool, args string
		// stderr is what `tapedeck call` shows of the served result.
		stderr func(*sandbox.CallResult) []string
	}{
		{name: "Trap", component: testcomponents.RustNoInit, tool: "upper", args: `{"s": "x"}`,
			stderr: func(r *sandbox.CallResult) []string { return []string{"tapedeck call: upper: " + r.Text + "\n"} }},
		{name: "BadArguments", component: testcomponents.CTool, tool: "add", args: `{"a": "x", "b": 1}`,
			stderr: func(r *sandbox.CallResult) []string { return []string{"tapedeck call: add: " + r.Text + "\n"} }},
		{name: "RefusedAccess", component: testcomponents.CFiles, tool: "read-file", args: fmt.Sprintf(`{"path": %q}`, note),
			stderr: func(r *sandbox.CallResult) []string {
				return []string{"Tapedeck refused these accesses during the call:\n- " + r.Denied[0] + "\n" + callPolicyAdvice + "\n"}
			}},
		{name: "MemoryLimit", component: testcomponents.CLimits, policy: memory, tool: "alloc-mb", args: `{"mb": 64}`,
			stderr: func(r *sandbox.CallResult) []string { return []string{"note: " + r.Notes[0] + "\n"} }},
		{name: "OutputCap", component: testcomponents.CLimits, tool: "print-lines", args: `{"line": "flood", "times": 300000}`,
			stderr: func(r *sandbox.CallResult) []string {
				lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
				return []string{"[guest stdout] " + lines[len(lines)-1] + "\n"}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served := servedCall(t, tt.component, tt.policy, tt.tool, tt.args)
			want := tt.stderr(served)
			args := []string{"call", testcomponents.Path(t, tt.component), tt.tool, "--args", tt.args}
			if tt.policy != "" {
				pol := filepath.Join(t.TempDir(), "policy.yaml")
				if err := os.WriteFile(pol, []byte(tt.policy), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--policy", pol)
			}
			out, stderr, code := run(t, args...)
			wantCode := 0
			if served.IsError {
				wantCode = 1
			}
			if code != wantCode {
				t.Fatalf("exit %d, want %d (the served call's isError %v): %s", code, wantCode, served.IsError, stderr)
			}
			if !served.IsError && compact(t, json.RawMessage(out)) != string(served.Structured) {
				t.Errorf("stdout %s, the served call's result %s", out, served.Structured)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say what the served call says, %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestCallBesideServe: `tapedeck call` while `tapedeck serve` owns the data
// dir neither needs the owner nor changes the data dir: no component, grant,
// secret or activity entry is written there (the compilation cache aside),
// and its throwaway folder is gone afterwards.
func TestCallBesideServe(t *testing.T) {
	s := newSession(t)
	s.startServe()
	s.loadCalc()
	before := s.files()
	calls := len(s.activity(activity.KindCall))

	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("version: \"1.0\"\npermissions:\n  environment:\n    allow:\n      - key: API_KEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "a secret value 5309"
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the call's throwaway folder goes
	r := s.run("call", testcomponents.Path(t, testcomponents.CEnv), "get-env", "--args", `{"key": "API_KEY"}`,
		"--policy", pol, "--secret", "API_KEY="+secret)
	if r.code != 0 || compact(t, json.RawMessage(r.out)) != fmt.Sprintf(`{"result":%q}`, secret) {
		t.Fatalf("call beside serve: exit %d, %s\n%s", r.code, r.out, r.err)
	}
	sameFiles(t, before, s.files())
	if n := len(s.activity(activity.KindCall)); n != calls {
		t.Errorf("the call was logged in the data dir's activity: %d call entries, were %d", n, calls)
	}
	filepath.WalkDir(s.data, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(secret)) {
				t.Errorf("the secret was written to %s", path)
			}
		}
		return nil
	})
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the call left %s behind in the temp folder", left[0].Name())
	}
	// The owner still serves its own component.
	if out := s.must("tool", "invoke", "add", "--args", `{"a":2,"b":3}`); strings.TrimSpace(out) != "5" {
		t.Errorf("add through serve after the call = %q", out)
	}
}

// TestCallIgnoresPolicyBesideTheFile: the call's policy is --policy alone;
// a policy.yaml lying beside the component file is neither applied nor
// put to the person as a proposal.
func TestCallIgnoresPolicyBesideTheFile(t *testing.T) {
	dir, _ := filesFixture(t, "")
	src := t.TempDir()
	wasm, err := os.ReadFile(testcomponents.Path(t, testcomponents.CFiles))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(src, "c-files.wasm")
	if err := os.WriteFile(file, wasm, 0o600); err != nil {
		t.Fatal(err)
	}
	beside := "version: \"1.0\"\npermissions:\n  storage:\n    deny:\n      - uri: \"fs://" + dir + "/**\"\n        access: [read]\n"
	if err := os.WriteFile(filepath.Join(src, "policy.yaml"), []byte(beside), 0o600); err != nil {
		t.Fatal(err)
	}
	// --prompt allow would approve a proposal, applying the deny rule.
	out, stderr, code := callRun{}.run(t, "call", file, "read-file", "--args", fmt.Sprintf(`{"path": %q}`, dir+"/note.txt"), "--prompt", "allow")
	if code != 0 || resultOf(t, out)["ok"] != "the note" {
		t.Errorf("exit %d, %s; want the read allowed once, the policy beside the file ignored\n%s", code, out, stderr)
	}
}

// TestCallProtectsItsFolder: the call's throwaway folder holds the policy
// that is copied back into --policy, so it is refused to the component
// even when its policy grants the folder around it.
func TestCallProtectsItsFolder(t *testing.T) {
	ctx := context.Background()
	env := &Env{Getenv: func(k string) string {
		if k == "TAPEDECK_DATA_DIR" {
			return t.TempDir()
		}
		return ""
	}}
	wasm, err := os.ReadFile(testcomponents.Path(t, testcomponents.CFiles))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := openCallHost(ctx, env, nil, secretFlags{}, sandboxPolicy(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.close()
	around := filepath.Dir(ch.dir)
	pol := []byte("version: \"1.0\"\npermissions:\n  storage:\n    allow:\n      - uri: \"fs://" + around + "/**\"\n        access: [read, write]\n")
	info, err := ch.load(ctx, "c-files.wasm", wasm, pol, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ch.host.Policy(info.ID)
	if err != nil || stored.YAML != string(pol) {
		t.Fatalf("policy in the throwaway folder = %+v, %v", stored, err)
	}
	res, err := ch.host.Call(ctx, sandbox.CallRequest{Tool: "write-file", Client: callClient,
		Args: json.RawMessage(fmt.Sprintf(`{"path": %q, "data": "permissions: {}"}`, stored.Path))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Denied) == 0 || !strings.Contains(string(res.Structured), "err") {
		t.Errorf("writing %s: %s %q; want it refused", stored.Path, res.Structured, res.Denied)
	}
	if after, _ := ch.host.Policy(info.ID); after.YAML != string(pol) {
		t.Errorf("the component rewrote its policy:\n%s", after.YAML)
	}
}

func sandboxPolicy(t *testing.T, text string) *policy.Policy {
	t.Helper()
	if text == "" {
		return policy.New()
	}
	p, err := policy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCallFileNameThatIsNoID: a file whose name cannot be a component id
// is still called (the id names only the throwaway copy).
func TestCallFileNameThatIsNoID(t *testing.T) {
	wasm, err := os.ReadFile(testcomponents.Path(t, testcomponents.CTool))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "my calc (copy).wasm")
	if err := os.WriteFile(file, wasm, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "call", file, "add", "--args", `{"a": 2, "b": 3}`)
	if code != 0 || compact(t, json.RawMessage(out)) != `{"result":5}` {
		t.Errorf("exit %d, %s\n%s", code, out, stderr)
	}
}
