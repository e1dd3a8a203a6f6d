package cli

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

func TestComponentLoadListUnload(t *testing.T) {
	s := newSession(t)
	s.loadCalc()

	var comps []sandbox.ComponentInfo
	decode(t, s.must("component", "list", "-o", "json"), &comps)
	if len(comps) != 1 || comps[0].ID != "calc" || comps[0].State != sandbox.StateReady || len(comps[0].Tools) != 4 {
		t.Fatalf("component list = %+v, want calc, ready, with 4 tools", comps)
	}

	var fromYAML []map[string]any
	if err := yaml.Unmarshal([]byte(s.must("component", "list", "-o", "yaml")), &fromYAML); err != nil {
		t.Fatalf("-o yaml is not YAML: %v", err)
	}
	if len(fromYAML) != 1 || fromYAML[0]["id"] != "calc" {
		t.Errorf("-o yaml = %v", fromYAML)
	}
	if table := s.must("component", "list"); !strings.Contains(table, "calc") || !strings.Contains(table, "ready") {
		t.Errorf("table lacks calc or its state:\n%s", table)
	}

	if out := s.must("component", "unload", "calc"); !strings.Contains(out, "unloaded calc") {
		t.Errorf("unload said %q", out)
	}
	decode(t, s.must("component", "list", "-o", "json"), &comps)
	if len(comps) != 0 {
		t.Errorf("after unload, list = %+v", comps)
	}
	if len(s.activity(activity.KindUnload)) == 0 {
		t.Error("the unload is not in the activity log")
	}
}

func TestComponentEnableDisable(t *testing.T) {
	s := newSession(t)
	s.loadCalc()
	s.must("component", "disable", "calc")

	var tools []sandbox.ToolInfo
	decode(t, s.must("tool", "list", "-o", "json"), &tools)
	if len(tools) != 0 {
		t.Errorf("a disabled component lists tools: %+v", tools)
	}
	if r := s.run("tool", "invoke", "add", "--args", `{"a":1,"b":2}`); r.code != ExitFailure || !strings.Contains(r.out+r.err, "disabled") {
		t.Errorf("calling a disabled component: exit %d, %q %q; want 1 saying it is disabled", r.code, r.out, r.err)
	}
	if entries := s.activity(activity.KindSetting); len(entries) != 1 || entries[0].Detail["value"] != "false" {
		t.Errorf("setting entries = %+v, want one disabling calc", entries)
	}

	s.must("component", "enable", "calc")
	if out := s.must("tool", "invoke", "add", "--args", `{"a":1,"b":2}`); strings.TrimSpace(out) != "3" {
		t.Errorf("add after enable = %q, want 3", out)
	}
}

func TestComponentLoadTrustNeedsConfirmation(t *testing.T) {
	s := newSession(t)
	before := s.files()
	r := s.run("component", "load", "/nonexistent/x.wasm", "--trust-bundled-policy")
	if r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Errorf("exit %d, %q: want 2 asking for --yes", r.code, r.err)
	}
	r = s.runWith("n\n", true, "component", "load", "/nonexistent/x.wasm", "--trust-bundled-policy")
	if r.code != ExitFailure || !strings.Contains(r.err, "not confirmed") {
		t.Errorf("refused: exit %d, %q: want 1, not confirmed", r.code, r.err)
	}
	sameFiles(t, before, s.files())
}
