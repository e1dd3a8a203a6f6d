package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clientsHome is a temporary home with Cursor and Zed installed.
type clientsHome struct {
	home, binary string
	zed          string // Zed's settings file
	zedBefore    []byte
}

func newClientsHome(t *testing.T) *clientsHome {
	t.Helper()
	h := &clientsHome{home: t.TempDir()}
	h.binary = filepath.Join(h.home, "bin", "tapedeck")
	h.zed = filepath.Join(h.home, "xdg", "zed", "settings.json")
	h.zedBefore = []byte("// Zed\n{\n  \"theme\": \"One Dark\", // dark\n}\n")
	for _, d := range []string{filepath.Join(h.home, ".cursor"), filepath.Dir(h.zed)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(h.zed, h.zedBefore, 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *clientsHome) run(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	env := &Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(k string) string {
			switch k {
			case "HOME":
				return h.home
			case "XDG_CONFIG_HOME":
				return filepath.Join(h.home, "xdg")
			}
			return ""
		},
	}
	code = Run(context.Background(), env, args)
	return out.String(), errOut.String(), code
}

func TestClientsCommand(t *testing.T) {
	h := newClientsHome(t)

	out, errOut, code := h.run("clients", "connect", "--all", "--command", h.binary, "--dry-run")
	if code != ExitOK || !strings.Contains(out, "+++ b"+h.zed) || !strings.Contains(out, `+    "tapedeck": {`) {
		t.Fatalf("dry run: code %d\n%s\n%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(h.zed); !bytes.Equal(got, h.zedBefore) {
		t.Fatal("dry run wrote the file")
	}

	out, errOut, code = h.run("clients", "connect", "cursor", "zed", "--command", h.binary)
	if code != ExitOK || !strings.Contains(out, "zed: connected") || !strings.Contains(out, "cursor: connected (created the file)") {
		t.Fatalf("connect: code %d\n%s\n%s", code, out, errOut)
	}

	out, _, code = h.run("clients", "list", "-o", "json", "--command", h.binary)
	var rows []struct {
		Name                           string
		Installed, Connected, UpToDate bool `json:",omitempty"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != ExitOK {
		t.Fatalf("list -o json: code %d, %v\n%s", code, err, out)
	}
	connected := map[string]bool{}
	for _, r := range rows {
		connected[r.Name] = r.Connected
	}
	if len(rows) != 17 || !connected["cursor"] || !connected["zed"] || connected["codex"] {
		t.Fatalf("list: %+v", rows)
	}

	out, _, code = h.run("clients", "list", "--command", h.binary)
	if code != ExitOK || !strings.Contains(out, "UP TO DATE") || !strings.Contains(out, "zed") {
		t.Fatalf("list: code %d\n%s", code, out)
	}

	out, errOut, code = h.run("clients", "disconnect", "--all")
	if code != ExitOK || !strings.Contains(out, "cursor: disconnected (removed the file") {
		t.Fatalf("disconnect: code %d\n%s\n%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(h.zed); !bytes.Equal(got, h.zedBefore) {
		t.Fatalf("disconnect did not restore Zed's settings:\n%s", got)
	}
}

func TestClientsCommandErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no-subcommand", []string{"clients"}, ExitUsage, "needs a sub-command"},
		{"unknown-subcommand", []string{"clients", "frob"}, ExitUsage, "unknown sub-command"},
		{"unknown-editor", []string{"clients", "connect", "emacs", "--command", "/x/tapedeck"}, ExitUsage, "the editors are: amazon-q, claude-code"},
		{"names-and-all", []string{"clients", "disconnect", "zed", "--all"}, ExitUsage, "not both"},
		{"nothing", []string{"clients", "connect", "--command", "/x/tapedeck"}, ExitUsage, "names or --all"},
		{"bad-output", []string{"clients", "list", "-o", "yaml"}, ExitUsage, "want text or json"},
		{"not-installed", []string{"clients", "connect", "goose", "--command", "/x/tapedeck"}, ExitFailure, "not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newClientsHome(t)
			_, errOut, code := h.run(tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("code %d, want %d; stderr:\n%s\nwant it to contain %q", code, tt.wantCode, errOut, tt.wantErr)
			}
		})
	}
}

func TestClientsCommandRefusesBrokenFile(t *testing.T) {
	h := newClientsHome(t)
	broken := []byte("{\n  \"theme\": \"x\"\n  \"oops\": 1\n}\n")
	os.WriteFile(h.zed, broken, 0o644)
	_, errOut, code := h.run("clients", "connect", "zed", "--command", h.binary)
	if code != ExitFailure || !strings.Contains(errOut, "line 3, column 3") || !strings.Contains(errOut, "left as it is") {
		t.Fatalf("code %d\n%s", code, errOut)
	}
	if got, _ := os.ReadFile(h.zed); !bytes.Equal(got, broken) {
		t.Fatal("a broken file was rewritten")
	}
}
