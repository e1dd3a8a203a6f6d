package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

func TestPermissionGrantNeedsConfirmation(t *testing.T) {
	s := newSession(t)
	s.loadCalc()
	before := s.files()
	tests := []struct {
		name     string
		stdin    string
		terminal bool
		want     int
	}{
		{name: "no_terminal_no_yes", want: ExitUsage},
		{name: "terminal_says_no", stdin: "n\n", terminal: true, want: ExitFailure},
		{name: "terminal_says_nothing", stdin: "\n", terminal: true, want: ExitFailure},
		{name: "terminal_closed", stdin: "", terminal: true, want: ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.runWith(tt.stdin, tt.terminal, "permission", "grant", "network", "calc", "example.com")
			if r.code != tt.want {
				t.Errorf("exit %d (%s), want %d", r.code, r.err, tt.want)
			}
		})
	}
	sameFiles(t, before, s.files())
	if entries := s.activity(activity.KindGrant); len(entries) != 0 {
		t.Errorf("refused grants were logged: %+v", entries)
	}
}

func TestPermissionGrantRevokeReset(t *testing.T) {
	s := newSession(t)
	s.loadCalc()
	folder := t.TempDir()

	r := s.runWith("y\n", true, "permission", "grant", "network", "calc", "api.example.com")
	if r.code != 0 {
		t.Fatalf("grant confirmed at the terminal: exit %d: %s", r.code, r.err)
	}
	s.must("permission", "grant", "storage", "calc", folder, "--access", "read,write", "--yes")
	s.must("permission", "grant", "environment-variable", "calc", "API_KEY", "--yes")
	s.must("permission", "grant", "memory", "calc", "64Mi", "--yes")

	var pol sandbox.PolicyInfo
	decode(t, s.must("policy", "get", "calc", "-o", "json"), &pol)
	for _, want := range []string{"api.example.com", "fs://" + filepath.ToSlash(folder), "API_KEY", "64Mi"} {
		if !strings.Contains(pol.YAML, want) {
			t.Errorf("policy lacks %s:\n%s", want, pol.YAML)
		}
	}
	grants := s.activity(activity.KindGrant)
	var confirmed []string
	for _, e := range grants {
		if e.Detail["confirmed"] != "" {
			confirmed = append(confirmed, e.Detail["confirmed"])
		}
	}
	if strings.Join(confirmed, ",") != "at the terminal,--yes,--yes,--yes" {
		t.Errorf("logged confirmations = %v, want the four grants", confirmed)
	}

	s.must("permission", "revoke", "network", "calc", "api.example.com")
	decode(t, s.must("policy", "get", "calc", "-o", "json"), &pol)
	if strings.Contains(pol.YAML, "api.example.com") {
		t.Errorf("revoked host still in the policy:\n%s", pol.YAML)
	}
	if r := s.run("permission", "revoke", "network", "calc", "api.example.com"); r.code != ExitFailure {
		t.Errorf("revoking what is not granted: exit %d, want 1", r.code)
	}

	s.must("permission", "reset", "calc")
	decode(t, s.must("policy", "get", "calc", "-o", "json"), &pol)
	if strings.Contains(pol.YAML, "API_KEY") || strings.Contains(pol.YAML, folder) {
		t.Errorf("reset left grants:\n%s", pol.YAML)
	}
}
