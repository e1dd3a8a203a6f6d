package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

// run runs the command line as the program would, with a private data dir
// sharing the tests' compilation cache.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	data := t.TempDir()
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "TAPEDECK_DATA_DIR" {
			return data
		}
		return ""
	}}
	code = Run(context.Background(), env, args)
	return out.String(), errb.String(), code
}

func TestInspectJSON(t *testing.T) {
	out, stderr, code := run(t, "inspect", testcomponents.Path(t, "c-tool"), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var info struct {
		Imports []struct {
			Name     string
			Provided bool
		}
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	var names []string
	for _, tl := range info.Tools {
		names = append(names, tl.Name)
		if len(tl.InputSchema) == 0 {
			t.Errorf("tool %s has no input schema", tl.Name)
		}
	}
	if strings.Join(names, ",") != "add,reverse,count-words,greet" {
		t.Errorf("tools = %v", names)
	}
	for _, imp := range info.Imports {
		if !imp.Provided {
			t.Errorf("import %s reported as not provided", imp.Name)
		}
	}
}

func TestInspectMarksMissingImports(t *testing.T) {
	out, stderr, code := run(t, "inspect", testcomponents.Path(t, "js-alltypes"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "tapedeck:test/host@0.1.0 (instance)   ← not available") {
		t.Errorf("the custom import is not marked unavailable:\n%s", out)
	}
}

func TestCall(t *testing.T) {
	out, stderr, code := run(t, "call", testcomponents.Path(t, "c-tool"), "add", "--args", `{"a": 2, "b": 3}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct{ Result int }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Result != 5 {
		t.Fatalf("output %q (%v), want {\"result\": 5}", out, err)
	}
}

func TestCallFailures(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		// The Host's words, as a served call gives them to an agent.
		{"bad_argument", []string{"call", testcomponents.Path(t, "c-tool"), "add", "--args", `{"a": "x", "b": 1}`}, 1, "add: bad arguments: arguments.a"},
		{"unknown_tool", []string{"call", testcomponents.Path(t, "c-tool"), "nope"}, 1, "has no tool \"nope\"; its tools: add, reverse"},
		{"trap", []string{"call", testcomponents.Path(t, "rust-noinit"), "upper", "--args", `{"s": "x"}`}, 1, "trapped"},
		{"timeout", []string{"call", testcomponents.Path(t, "c-limits"), "spin", "--timeout", "200ms"}, 1, "--timeout"},
		{"invalid_json", []string{"call", testcomponents.Path(t, "c-tool"), "add", "--args", `{`}, 2, "not valid JSON"},
		{"not_a_component", []string{"inspect", testcomponents.Fixture(t, "not-a-component")}, 1, "not a component"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}
