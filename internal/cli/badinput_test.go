package cli

import (
	"strings"
	"testing"
)

// TestBadInput: a wrong command line exits 2, a command that cannot be
// done exits 1; both say what is wrong and change nothing on disk.
func TestBadInput(t *testing.T) {
	s := newSession(t)
	s.loadCalc()
	before := s.files()
	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{name: "unknown_verb", args: []string{"frobnicate"}, code: ExitUsage, says: "unknown command"},
		{name: "no_sub_verb", args: []string{"component"}, code: ExitUsage, says: "needs a sub-command"},
		{name: "unknown_sub_verb", args: []string{"component", "explode", "calc"}, code: ExitUsage, says: "unknown sub-command"},
		{name: "load_without_uri", args: []string{"component", "load"}, code: ExitUsage, says: "URI"},
		{name: "unload_without_id", args: []string{"component", "unload"}, code: ExitUsage, says: "component id"},
		{name: "bad_output", args: []string{"component", "list", "-o", "xml"}, code: ExitUsage, says: "want table, json or yaml"},
		{name: "unknown_flag", args: []string{"tool", "list", "--frob"}, code: ExitUsage, says: "frob"},
		{name: "unknown_component_unload", args: []string{"component", "unload", "nope"}, code: ExitFailure, says: "no such component"},
		{name: "unknown_component_policy", args: []string{"policy", "get", "nope"}, code: ExitFailure, says: "no such component"},
		{name: "unknown_component_disable", args: []string{"component", "disable", "nope"}, code: ExitFailure, says: "no such component"},
		{name: "unknown_component_grant", args: []string{"permission", "grant", "network", "nope", "h.example", "--yes"}, code: ExitFailure, says: "no such component"},
		{name: "unknown_component_secret", args: []string{"secret", "set", "nope", "K", "v", "--yes"}, code: ExitFailure, says: "no such component"},
		{name: "unknown_permission_kind", args: []string{"permission", "grant", "telepathy", "calc", "x", "--yes"}, code: ExitUsage, says: "unknown kind"},
		{name: "revoke_memory", args: []string{"permission", "revoke", "memory", "calc", "1Mi"}, code: ExitUsage, says: "unknown kind"},
		{name: "storage_without_access", args: []string{"permission", "grant", "storage", "calc", "/tmp", "--yes"}, code: ExitUsage, says: "--access"},
		{name: "storage_bad_access", args: []string{"permission", "grant", "storage", "calc", "/tmp", "--access", "exec", "--yes"}, code: ExitUsage, says: "--access"},
		{name: "access_on_network", args: []string{"permission", "grant", "network", "calc", "h.example", "--access", "read", "--yes"}, code: ExitUsage, says: "storage permissions only"},
		{name: "unknown_tool", args: []string{"tool", "invoke", "nope"}, code: ExitFailure, says: "no such tool"},
		{name: "unknown_tool_read", args: []string{"tool", "read", "nope"}, code: ExitFailure, says: "no tool"},
		{name: "bad_json_args", args: []string{"tool", "invoke", "add", "--args", "{a:1"}, code: ExitUsage, says: "JSON object"},
		{name: "json_args_not_object", args: []string{"tool", "invoke", "add", "--args", "[1,2]"}, code: ExitUsage, says: "JSON object"},
		{name: "load_missing_file", args: []string{"component", "load", "/nonexistent/x.wasm"}, code: ExitFailure, says: "x.wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.run(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.err)
			}
			if !strings.Contains(r.err, tt.says) {
				t.Errorf("stderr does not say %q:\n%s", tt.says, r.err)
			}
		})
	}
	sameFiles(t, before, s.files())
}
