package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/store"
)

// loadWithPolicy loads test component name as id under the policy text
// pol, the person's own (trusted) choice.
func loadWithPolicy(t *testing.T, h *sandbox.Host, name, id, pol string) {
	t.Helper()
	src := t.TempDir()
	path := copyComponent(t, name, filepath.Join(src, id+".wasm"))
	if pol != "" {
		if err := os.WriteFile(filepath.Join(src, "policy.yaml"), []byte(pol), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Load(context.Background(), path, sandbox.LoadOptions{Client: person, TrustBundledPolicy: true}); err != nil {
		t.Fatal(err)
	}
}

// TestHostCallResultDeniedAndNotes: a result lists the accesses refused
// during the call and the notes on its success apart from its text, for
// front-ends that show them on their own (`tapedeck call`), and the text
// still carries them.
func TestHostCallResultDeniedAndNotes(t *testing.T) {
	h := newHost(t, t.TempDir(), sandbox.Options{})
	loadWithPolicy(t, h, "c-files", "files", "")
	loadWithPolicy(t, h, "c-limits", "limits", "version: \"1.0\"\npermissions:\n  resources:\n    limits:\n      memory: \"16Mi\"\n")
	note := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(note, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	denied := call(t, h, "read-file", fmt.Sprintf(`{"path": %q}`, note))
	if len(denied.Denied) != 1 {
		t.Fatalf("Denied = %q, want the one refused read", denied.Denied)
	}
	d := denied.Denied[0]
	for _, want := range []string{"access denied: read " + note, "tapedeck permission grant storage files"} {
		if !strings.Contains(d, want) {
			t.Errorf("denial %q does not say %q", d, want)
		}
	}
	if !strings.Contains(denied.Text, "- "+d) {
		t.Errorf("the text does not name the denial:\n%s", denied.Text)
	}
	if len(denied.Notes) != 0 {
		t.Errorf("Notes = %q, want none", denied.Notes)
	}

	capped := call(t, h, "alloc-mb", `{"mb": 64}`)
	if capped.IsError || len(capped.Notes) != 1 || !strings.Contains(capped.Notes[0], "memory limit (16 MiB)") {
		t.Fatalf("alloc-mb over the limit: %+v, want a success with a note naming the limit", capped)
	}
	if !strings.HasSuffix(capped.Text, "Note: "+capped.Notes[0]) {
		t.Errorf("the text does not end with the note:\n%s", capped.Text)
	}
	if len(capped.Denied) != 0 {
		t.Errorf("Denied = %q, want none", capped.Denied)
	}
}

// TestHostTimeoutHint: a call stopped by its time limit says how to raise
// it: the component's settings, or what Options.TimeoutHint says.
func TestHostTimeoutHint(t *testing.T) {
	tests := []struct {
		name, hint, want string
	}{
		{"Default", "", "call_timeout in <id>.tapedeck.json"},
		{"OwnHint", "raise it with --timeout", "time limit (200ms) and was stopped; raise it with --timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, t.TempDir(), sandbox.Options{TimeoutHint: tt.hint})
			loadWithPolicy(t, h, "c-limits", "limits", "")
			if err := h.SetSettings(context.Background(), "limits", store.Settings{CallTimeout: 200 * time.Millisecond}, person); err != nil {
				t.Fatal(err)
			}
			res := call(t, h, "spin", `{}`) // spins forever
			if !res.IsError || !strings.Contains(res.Text, tt.want) {
				t.Errorf("spin = %+v, want an error saying %q", res, tt.want)
			}
		})
	}
}
