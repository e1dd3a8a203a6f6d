package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

// callRun runs the command line with stdin, a terminal or not, and an
// environment of its own (the process's is never read).
type callRun struct {
	stdin    string
	terminal bool
	environ  map[string]string
}

func (c callRun) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	data := t.TempDir()
	env := &Env{Stdin: strings.NewReader(c.stdin), Stdout: &out, Stderr: &errb, StdinIsTerminal: c.terminal,
		Getenv: func(k string) string {
			if k == "TAPEDECK_DATA_DIR" {
				return data
			}
			return c.environ[k]
		}}
	code = Run(context.Background(), env, args)
	return out.String(), errb.String(), code
}

// filesFixture makes a folder with one file and a policy file naming what
// rules says, and returns the folder and the policy's path.
func filesFixture(t *testing.T, rules string) (dir, policyPath string) {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, "work")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("the note"), 0o644); err != nil {
		t.Fatal(err)
	}
	policyPath = filepath.Join(root, "policy.yaml")
	text := "# my policy, with a comment to keep\nversion: \"1.0\"\npermissions:\n" + strings.ReplaceAll(rules, "DIR", dir)
	if err := os.WriteFile(policyPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, policyPath
}

func resultOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var v struct{ Result map[string]any }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not a result: %v\n%s", err, out)
	}
	return v.Result
}

func TestCallUnderPolicy(t *testing.T) {
	files := testcomponents.Path(t, testcomponents.CFiles)
	grant := "  storage:\n    allow:\n      - uri: \"fs://DIR/**\"\n        access: [read]\n"
	tests := []struct {
		name       string
		rules      string
		runner     callRun
		flags      []string
		wantOK     string // the read text; empty: the read must fail
		wantStderr []string
	}{
		{name: "Granted", rules: grant, wantOK: "the note"},
		{name: "NoPolicyDenies", rules: "", flags: []string{"--policy", ""},
			wantStderr: []string{"Tapedeck refused these accesses", "work/note.txt", "tapedeck permission grant storage", "--policy file"}},
		{name: "SilentPolicyDeniesByDefault", rules: "  network:\n    allow: [{host: example.com}]\n",
			wantStderr: []string{"Tapedeck refused these accesses", "headless"}},
		{name: "PromptAllowAllowsOnce", rules: "", flags: []string{"--prompt", "allow"}, wantOK: "the note"},
		{name: "PromptAskYes", rules: "", flags: []string{"--prompt", "ask"}, runner: callRun{stdin: "y\n", terminal: true}, wantOK: "the note",
			wantStderr: []string{"asks to use read"}},
		{name: "PromptAskNo", rules: "", flags: []string{"--prompt", "ask"}, runner: callRun{stdin: "n\n", terminal: true},
			wantStderr: []string{"the person answered deny"}},
		{name: "PromptAskEndOfInput", rules: "", flags: []string{"--prompt", "ask"}, runner: callRun{stdin: "", terminal: true},
			wantStderr: []string{"end of input: denied"}},
		{name: "PromptAskRetriesOnNonsense", rules: "", flags: []string{"--prompt", "ask"}, runner: callRun{stdin: "maybe\ny\n", terminal: true},
			wantOK: "the note", wantStderr: []string{`"maybe" is not one of the answers`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, pol := filesFixture(t, tt.rules)
			args := []string{"call", files, "read-file", "--args", fmt.Sprintf(`{"path": %q}`, dir+"/note.txt"), "--policy", pol}
			args = append(args, tt.flags...)
			out, stderr, code := tt.runner.run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			res := resultOf(t, out)
			if tt.wantOK != "" && res["ok"] != tt.wantOK {
				t.Errorf("result %v, want ok %q; stderr:\n%s", res, tt.wantOK, stderr)
			}
			if tt.wantOK == "" && res["err"] == nil {
				t.Errorf("result %v, want an err", res)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestCallPromptAlwaysSavesThePolicy: "a" allows, and writes the rule into
// the --policy file with its comment kept; the next call needs no question.
func TestCallPromptAlwaysSavesThePolicy(t *testing.T) {
	files := testcomponents.Path(t, testcomponents.CFiles)
	dir, pol := filesFixture(t, "  network:\n    allow: [{host: example.com}]\n")
	args := []string{"call", files, "read-file", "--args", fmt.Sprintf(`{"path": %q}`, dir+"/note.txt"), "--policy", pol}
	out, stderr, code := callRun{stdin: "a\n", terminal: true}.run(t, append(args, "--prompt", "ask")...)
	if code != 0 || resultOf(t, out)["ok"] != "the note" {
		t.Fatalf("exit %d, %s\n%s", code, out, stderr)
	}
	saved, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"# my policy, with a comment to keep", "fs://" + dir + "/note.txt", "example.com"} {
		if !strings.Contains(string(saved), w) {
			t.Errorf("saved policy lacks %q:\n%s", w, saved)
		}
	}
	out, stderr, code = callRun{}.run(t, args...) // --prompt deny: only the saved rule can allow it
	if code != 0 || resultOf(t, out)["ok"] != "the note" {
		t.Errorf("after allow always: exit %d, %s\n%s", code, out, stderr)
	}
}

func TestCallPromptFlagErrors(t *testing.T) {
	files := testcomponents.Path(t, testcomponents.CFiles)
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"AskWithoutTerminal", []string{"--prompt", "ask"}, "needs a terminal"},
		{"UnknownMode", []string{"--prompt", "sometimes"}, "deny, allow or ask"},
		{"BadSecret", []string{"--secret", "NOEQUALS"}, "KEY=VALUE"},
		{"MissingPolicy", []string{"--policy", "/nonexistent/policy.yaml"}, "--policy"},
		{"NegativeTimeout", []string{"--timeout", "-1s"}, "--timeout must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := callRun{}.run(t, append([]string{"call", files, "read-file", "--args", `{"path":"/x"}`}, tt.flags...)...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q", code, stderr, tt.want)
			}
		})
	}
}

func TestCallPolicyParseErrorNamesTheLine(t *testing.T) {
	_, pol := filesFixture(t, "  storage:\n    allow:\n      - uri: \"not-a-uri\"\n        access: [read]\n")
	_, stderr, code := callRun{}.run(t, "call", testcomponents.Path(t, testcomponents.CFiles), "read-file", "--args", `{"path":"/x"}`, "--policy", pol)
	if code == 0 || !strings.Contains(stderr, "policy.yaml:") {
		t.Errorf("exit %d, stderr %q; want the file and line of the error", code, stderr)
	}
}

func TestCallEnvironment(t *testing.T) {
	envComp := testcomponents.Path(t, testcomponents.CEnv)
	_, pol := filesFixture(t, "  environment:\n    allow:\n      - key: API_KEY\n      - key: FROM_HOST\n")
	runner := callRun{environ: map[string]string{"FROM_HOST": "host value", "API_KEY": "host key", "LEAK": "must not be seen"}}
	tests := []struct {
		name  string
		flags []string
		tool  string
		args  string
		want  string
	}{
		{"SecretWins", []string{"--policy", pol, "--secret", "API_KEY=from the secret"}, "get-env", `{"key":"API_KEY"}`, `"from the secret"`},
		{"ProcessEnvironmentLast", []string{"--policy", pol}, "get-env", `{"key":"FROM_HOST"}`, `"host value"`},
		{"NotAllowedIsUnset", []string{"--policy", pol, "--secret", "LEAK=x"}, "get-env", `{"key":"LEAK"}`, `null`},
		{"OnlyAllowedKeys", []string{"--policy", pol}, "env-keys", `{}`, `["API_KEY","FROM_HOST"]`},
		{"NoPolicyEmpty", nil, "env-keys", `{}`, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runner.run(t, append([]string{"call", envComp, tt.tool, "--args", tt.args}, tt.flags...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var v struct{ Result json.RawMessage }
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatal(err)
			}
			if compact(t, v.Result) != tt.want {
				t.Errorf("result %s, want %s", v.Result, tt.want)
			}
		})
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCallLimits: a memory bomb and an endless loop end with a message
// naming their limit and how to raise it; a cpu limit warns.
func TestCallLimits(t *testing.T) {
	limitsComp := testcomponents.Path(t, testcomponents.CLimits)
	_, pol := filesFixture(t, "  resources:\n    limits:\n      memory: \"16Mi\"\n      cpu: \"500m\"\n")
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"UnderTheLimit", []string{"alloc-mb", "--args", `{"mb": 2}`}, 0, nil},
		{"EndlessLoop", []string{"spin", "--timeout", "300ms"}, 1, []string{"time limit (300ms)", "--timeout"}},
		{"CPUWarns", []string{"double", "--args", `{"x": 21}`}, 0, []string{"resources.limits.cpu", "not enforced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := callRun{}.run(t, append([]string{"call", limitsComp, "--policy", pol}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestCallMemoryBomb: under resources.limits.memory the guest cannot have
// more. c-limits checks malloc, so it stops at the limit and returns how
// much it got; a guest that traps instead ends with the limit's message.
func TestCallMemoryBomb(t *testing.T) {
	_, pol := filesFixture(t, "  resources:\n    limits:\n      memory: \"16Mi\"\n")
	out, stderr, code := callRun{}.run(t, "call", testcomponents.Path(t, testcomponents.CLimits), "alloc-mb", "--args", `{"mb": 64}`, "--policy", pol)
	if code != 0 {
		if !strings.Contains(stderr, "memory limit") || !strings.Contains(stderr, "resources.limits.memory") {
			t.Errorf("exit %d without naming the limit: %s", code, stderr)
		}
		return
	}
	var got struct{ Result int }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Result >= 16 {
		t.Errorf("alloc-mb(64) under a 16 MiB limit got %d MiB", got.Result)
	}
}

var _ sandbox.Prompter = (*terminalPrompter)(nil)
