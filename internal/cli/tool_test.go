package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox"
)

func TestToolListReadInvoke(t *testing.T) {
	s := newSession(t)
	s.loadCalc()

	var tools []sandbox.ToolInfo
	decode(t, s.must("tool", "list", "-o", "json"), &tools)
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "add,count-words,greet,reverse" {
		t.Errorf("tools = %v", names)
	}

	var add sandbox.ToolInfo
	decode(t, s.must("tool", "read", "add", "-o", "json"), &add)
	if add.Name != "add" || add.Component != "calc" || !json.Valid(add.InputSchema) || !strings.Contains(string(add.InputSchema), `"a"`) {
		t.Errorf("tool read add = %+v", add)
	}
	if text := s.must("tool", "read", "add"); !strings.Contains(text, "input schema") {
		t.Errorf("tool read table form lacks the schema:\n%s", text)
	}

	if out := s.must("tool", "invoke", "add", "--args", `{"a":40,"b":2}`); strings.TrimSpace(out) != "42" {
		t.Errorf("add 40 2 = %q", out)
	}
	var res sandbox.CallResult
	decode(t, s.must("tool", "invoke", "reverse", "--args", `{"s":"abc"}`, "-o", "json"), &res)
	if res.IsError || !strings.Contains(string(res.Structured), "cba") {
		t.Errorf("reverse abc = %+v", res)
	}
	// Arguments the schema refuses are the tool's error: exit 1.
	if r := s.run("tool", "invoke", "add", "--args", `{"a":"x"}`); r.code != ExitFailure {
		t.Errorf("bad arguments: exit %d (%s %s), want 1", r.code, r.out, r.err)
	}
}
