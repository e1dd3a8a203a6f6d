package cli

import (
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/activity"
)

func TestSecretSetListDelete(t *testing.T) {
	s := newSession(t)
	s.loadCalc()

	before := s.files()
	if r := s.runWith("n\n", true, "secret", "set", "calc", "API_KEY", "s3cret-value"); r.code != ExitFailure {
		t.Errorf("refused confirmation: exit %d, want 1", r.code)
	}
	if r := s.runWith("s3cret-value\n", false, "secret", "set", "calc", "API_KEY"); r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Errorf("stdin value without --yes: exit %d %q, want 2 asking for --yes", r.code, r.err)
	}
	sameFiles(t, before, s.files())

	r := s.runWith("s3cret-value\n", false, "secret", "set", "calc", "API_KEY", "-", "--yes")
	if r.code != 0 {
		t.Fatalf("secret set from stdin: exit %d: %s", r.code, r.err)
	}
	if strings.Contains(r.out+r.err, "s3cret-value") {
		t.Error("secret set echoed the value")
	}
	s.must("secret", "set", "calc", "OTHER", "v2", "--yes")

	var listed struct {
		Keys []string `json:"keys"`
	}
	decode(t, s.must("secret", "list", "calc", "-o", "json"), &listed)
	if strings.Join(listed.Keys, ",") != "API_KEY,OTHER" {
		t.Errorf("keys = %v", listed.Keys)
	}
	entries := s.activity(activity.KindSecret)
	if len(entries) != 2 || entries[0].Detail["set"] != "API_KEY" {
		t.Errorf("secret entries = %+v, want two sets", entries)
	}
	for _, e := range entries {
		for _, v := range e.Detail {
			if strings.Contains(v, "s3cret") {
				t.Errorf("the log holds the value: %+v", e)
			}
		}
	}

	s.must("secret", "delete", "calc", "OTHER")
	decode(t, s.must("secret", "list", "calc", "-o", "json"), &listed)
	if strings.Join(listed.Keys, ",") != "API_KEY" {
		t.Errorf("after delete, keys = %v", listed.Keys)
	}
	if r := s.run("secret", "delete", "calc", "OTHER"); r.code != ExitFailure {
		t.Errorf("deleting a missing secret: exit %d, want 1", r.code)
	}
}
