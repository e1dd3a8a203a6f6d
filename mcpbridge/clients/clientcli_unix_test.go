//go:build unix

package clients

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeClaude stands in for Claude Code's CLI: it logs its arguments and,
// like the real one, rewrites the whole of ~/.claude.json.
const fakeClaude = `#!/bin/sh
echo "$*" >> "$HOME/claude-calls.log"
case "$1 $2" in
"mcp add-json") printf '{\n  "numStartups": 3,\n  "mcpServers": {\n    "tapedeck": %s\n  }\n}\n' "$4" > "$HOME/.claude.json" ;;
"mcp remove") printf '{\n  "numStartups": 3,\n  "mcpServers": {}\n}\n' > "$HOME/.claude.json" ;;
*) exit 1 ;;
esac
`

func TestClaudeCodeUsesItsCLI(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("claude-code")
	path := e.install(t, c)
	os.WriteFile(path, []byte(`{"numStartups": 3}`), 0o600)
	bin := filepath.Join(e.home, "fakebin")
	os.MkdirAll(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "claude"), []byte(fakeClaude), 0o755); err != nil {
		t.Fatal(err)
	}
	e.env["PATH"] = bin
	calls := func() []string {
		b, _ := os.ReadFile(filepath.Join(e.home, "claude-calls.log"))
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}

	m := New(e.options())
	if _, err := m.Connect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	wantEntry, _ := json.Marshal(map[string]any{"type": "stdio", "command": e.binary, "args": []string{"mcp"}})
	if got := calls(); len(got) != 1 || !strings.HasPrefix(got[0], "mcp add-json tapedeck {") || !strings.HasSuffix(got[0], "--scope user") {
		t.Fatalf("calls = %q, want one add-json with %s", got, wantEntry)
	}
	if st, err := m.Status("claude-code"); err != nil || !st.Connected || !st.UpToDate {
		t.Fatalf("status after connect = %+v, %v", st, err)
	}

	e.binary = filepath.Join(e.home, "moved", "tapedeck")
	if _, err := New(e.options()).Connect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	if got := calls(); len(got) != 3 || got[1] != "mcp remove tapedeck --scope user" || !strings.Contains(got[2], e.binary) {
		t.Fatalf("calls after the binary moved = %q, want remove then add-json", got)
	}

	// Claude Code rewrites its file as it runs; then the disconnect, which
	// can no longer restore the old bytes, is left to its CLI too.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), `"numStartups": 3`, `"numStartups": 4`, 1)), 0o600)
	if _, err := m.Disconnect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	if st, err := m.Status("claude-code"); err != nil || st.Connected {
		t.Fatalf("status after disconnect = %+v, %v", st, err)
	}
	if got := calls(); len(got) != 4 || got[3] != "mcp remove tapedeck --scope user" {
		t.Fatalf("calls after disconnect = %q", got)
	}
}

// TestClaudeCodeDisconnectRestoresUntouchedFile: while the file is exactly
// as the connect left it, disconnect puts back the original bytes itself.
func TestClaudeCodeDisconnectRestoresUntouchedFile(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("claude-code")
	path := e.install(t, c)
	original := []byte("{\n  \"numStartups\": 3\n}\n")
	os.WriteFile(path, original, 0o600)
	bin := filepath.Join(e.home, "fakebin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "claude"), []byte(fakeClaude), 0o755)
	e.env["PATH"] = bin
	m := New(e.options())
	if _, err := m.Connect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Disconnect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(original) {
		t.Fatalf("after disconnect:\n%s", got)
	}
}

func TestClaudeCodeBrokenCLIFallsBackToFileEdit(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("claude-code")
	path := e.install(t, c)
	original := []byte("{\n  \"numStartups\": 3\n}\n")
	os.WriteFile(path, original, 0o600)
	bin := filepath.Join(e.home, "fakebin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "claude"), []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755)
	e.env["PATH"] = bin
	m := New(e.options())
	if _, err := m.Connect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Status("claude-code"); !st.Connected || !st.UpToDate {
		t.Fatalf("status = %+v, want connected by the file edit", st)
	}
	if _, err := m.Disconnect("claude-code", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(original) {
		t.Fatalf("after disconnect:\n%s", got)
	}
}
