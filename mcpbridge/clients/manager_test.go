package clients

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv is a home folder and data folder under t.TempDir, with the
// environment a Manager sees.
type testEnv struct {
	home, data, binary string
	env                map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	root := t.TempDir()
	e := &testEnv{
		home:   filepath.Join(root, "home"),
		data:   filepath.Join(root, "data"),
		binary: filepath.Join(root, "opt", "tapedeck"),
		env:    map[string]string{},
	}
	e.env["HOME"] = e.home
	if err := os.MkdirAll(e.home, 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *testEnv) options() Options {
	return Options{
		Getenv:  func(k string) string { return e.env[k] },
		GOOS:    "linux",
		DataDir: e.data,
		Binary:  e.binary,
	}
}

// install makes c look installed and returns its config path.
func (e *testEnv) install(t *testing.T, c Client) string {
	t.Helper()
	o := e.options()
	cands, err := o.candidates(c.Paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cands {
		if p.OnlyIfExists {
			continue
		}
		if err := os.MkdirAll(p.Marker, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(p.Pattern), 0o755); err != nil {
			t.Fatal(err)
		}
		return p.Pattern
	}
	t.Fatalf("%s has no config path on linux", c.Name)
	return ""
}

// TestManagerRoundTrip connects every client in a temporary home, checks
// the status, connects again (nothing to do) and disconnects: the file is
// exactly as before, or gone when there was none.
func TestManagerRoundTrip(t *testing.T) {
	for _, c := range Clients() {
		inputs := []string{"missing"}
		for _, name := range []string{"connect-empty", "connect-others", "connect-nokey", "connect-emptyservers", "connect-bom", "connect-crlf"} {
			if _, err := os.Stat(filepath.Join("testdata", "golden", c.Name, name+".before")); err == nil {
				inputs = append(inputs, name)
			}
		}
		for _, input := range inputs {
			t.Run(c.Name+"/"+input, func(t *testing.T) {
				t.Parallel()
				e := newTestEnv(t)
				path := e.install(t, c)
				var before []byte
				if input != "missing" {
					b, err := os.ReadFile(filepath.Join("testdata", "golden", c.Name, input+".before"))
					if err != nil {
						t.Fatal(err)
					}
					before = b
					if err := os.WriteFile(path, before, 0o640); err != nil {
						t.Fatal(err)
					}
				}
				m := New(e.options())
				st, err := m.Status(c.Name)
				if err != nil || !st.Installed || st.Connected || st.ConfigPath != path {
					t.Fatalf("status before = %+v, %v", st, err)
				}
				res, err := m.Connect(c.Name, false)
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				if len(res.Changes) != 1 || res.NeedsRestart != c.Restart {
					t.Fatalf("connect result = %+v", res)
				}
				st, err = m.Status(c.Name)
				if err != nil || !st.Connected || !st.UpToDate || st.Conflict {
					t.Fatalf("status after connect = %+v, %v", st, err)
				}
				if input != "missing" {
					if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
						t.Errorf("mode after connect = %v, %v; want 0640", fi.Mode().Perm(), err)
					}
				}
				connected, _ := os.ReadFile(path)
				res, err = m.Connect(c.Name, false)
				if err != nil || len(res.Changes) != 0 {
					t.Fatalf("second connect = %+v, %v; want no change", res, err)
				}
				if again, _ := os.ReadFile(path); !bytes.Equal(again, connected) {
					t.Fatal("second connect changed the file")
				}
				if _, err := m.Disconnect(c.Name, false); err != nil {
					t.Fatalf("disconnect: %v", err)
				}
				after, err := os.ReadFile(path)
				if input == "missing" {
					if !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("the file we created is still there after disconnect: %q, %v", after, err)
					}
					return
				}
				if err != nil || !bytes.Equal(after, before) {
					t.Fatalf("disconnect did not restore the file (err %v):\n--- before\n%s\n--- after\n%s", err, before, after)
				}
			})
		}
	}
}

func TestManagerMovedBinaryUpdatesEntry(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("cursor")
	path := e.install(t, c)
	old := New(e.options())
	if _, err := old.Connect("cursor", false); err != nil {
		t.Fatal(err)
	}
	e.binary = filepath.Join(e.home, "bin", "tapedeck")
	moved := New(e.options())
	st, err := moved.Status("cursor")
	if err != nil || !st.Connected || st.UpToDate {
		t.Fatalf("status with a moved binary = %+v, %v; want connected, not up to date", st, err)
	}
	if _, err := moved.Connect("cursor", false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), e.binary) {
		t.Fatalf("entry not updated to the new binary:\n%s", data)
	}
	// The record still holds the state before the first connect, so a
	// disconnect removes the file we created.
	if _, err := moved.Disconnect("cursor", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file still there after disconnect: %v", err)
	}
}

func TestManagerRefusals(t *testing.T) {
	tests := []struct {
		name, client, content string
		wantErr               error
		wantSyntax            bool
	}{
		{name: "stranger", client: "cursor", content: `{"mcpServers": {"tapedeck": {"command": "npx", "args": ["tapedeck"]}}}`, wantErr: ErrNotOurs},
		{name: "bad-json", client: "cursor", content: "{\n  \"mcpServers\": {\n    \"a\": 1,\n  }\n}\n", wantSyntax: true},
		{name: "comment-in-strict-json", client: "claude-desktop", content: "{\n  // hi\n  \"mcpServers\": {}\n}\n", wantSyntax: true},
		{name: "duplicate-servers-key", client: "zed", content: `{"context_servers": {}, "context_servers": {}}`, wantSyntax: true},
		{name: "duplicate-entry", client: "vscode", content: `{"servers": {"tapedeck": {}, "tapedeck": {}}}`, wantSyntax: true},
		{name: "top-level-array", client: "gemini-cli", content: `[1, 2]`, wantSyntax: true},
		{name: "servers-not-object", client: "lm-studio", content: `{"mcpServers": []}`, wantSyntax: true},
		{name: "unterminated-comment", client: "opencode", content: "{ /* open", wantSyntax: true},
		{name: "yaml-bad", client: "continue", content: "mcpServers:\n  - name: a\n   bad: [\n", wantSyntax: true},
		{name: "yaml-anchor-servers", client: "continue", content: "mcpServers: &s\n  - name: a\nother: *s\n", wantSyntax: true},
		{name: "yaml-flow-servers", client: "goose", content: "extensions: {developer: {enabled: true}}\n", wantSyntax: true},
		{name: "yaml-two-documents", client: "goose", content: "a: 1\n---\nb: 2\n", wantSyntax: true},
		{name: "toml-bad", client: "codex", content: "model = \n", wantSyntax: true},
		{name: "toml-inline-ours", client: "codex", content: "mcp_servers = { tapedeck = { command = \"/usr/bin/tapedeck\", args = [\"mcp\"] } }\n", wantErr: errInlineTOML},
		{name: "toml-dotted-ours", client: "codex", content: "[mcp_servers]\ntapedeck.command = \"/usr/bin/tapedeck\"\ntapedeck.args = [\"mcp\"]\n", wantErr: errInlineTOML},
		{name: "toml-inline-stranger", client: "codex", content: "[mcp_servers]\ntapedeck = { command = \"npx\" }\n", wantErr: ErrNotOurs},
		{name: "toml-duplicate-table", client: "codex", content: "[mcp_servers.a]\n[mcp_servers.a]\n", wantSyntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			c, _ := Lookup(tt.client)
			path := e.install(t, c)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			m := New(e.options())
			for _, op := range []string{"connect", "disconnect"} {
				var err error
				if op == "connect" {
					_, err = m.Connect(tt.client, false)
				} else {
					_, err = m.Disconnect(tt.client, false)
				}
				var syn *SyntaxError
				switch {
				case tt.wantSyntax && !errors.As(err, &syn):
					t.Errorf("%s: err = %v, want a *SyntaxError", op, err)
				case tt.wantSyntax && (syn.Line < 1 || syn.Column < 1):
					t.Errorf("%s: syntax error without a position: %+v", op, syn)
				case tt.wantErr != nil && op == "connect" && !errors.Is(err, tt.wantErr):
					t.Errorf("%s: err = %v, want %v", op, err, tt.wantErr)
				case err == nil && tt.wantErr != ErrNotOurs:
					t.Errorf("%s: no error", op)
				}
				if got, _ := os.ReadFile(path); string(got) != tt.content {
					t.Fatalf("%s changed a file it refused:\n%s", op, got)
				}
			}
			st, _ := m.Status(tt.client)
			if tt.wantErr == ErrNotOurs && !st.Conflict {
				t.Errorf("status of a stranger's entry = %+v, want Conflict", st)
			}
		})
	}
}

func TestManagerHandlesOddButValidFiles(t *testing.T) {
	tests := []struct{ name, client, content string }{
		{"comments-everywhere", "vscode", "/*a*/{/*b*/\"servers\"/*c*/:/*d*/{/*e*/}/*f*/,/*g*/}/*h*/"},
		{"bom-crlf", "zed", "\ufeff{\r\n  \"theme\": \"x\"\r\n}\r\n"},
		{"no-final-newline", "codex", "model = \"o3\""},
		{"comments-only-yaml", "goose", "# just a comment\n"},
		{"one-line-json", "cursor", `{"mcpServers":{"a":{"command":"x","args":[]}}}`},
		{"nested-elsewhere", "gemini-cli", `{"a":{"mcpServers":{}},"mcpServers":{"b":{"command":"y"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := Lookup(tt.client)
			ed := editorFor(c)
			want := c.Entry.fields(goldenBinary)
			after, err := ed.upsert([]byte(tt.content), want)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			if err := checkEdit(ed, c, []byte(tt.content), after, want); err != nil {
				t.Fatalf("connect: %v\n%s", err, after)
			}
			back, err := ed.remove(after)
			if err != nil || string(back) != tt.content {
				t.Fatalf("disconnect = %q, %v; want the input back", back, err)
			}
		})
	}
}

func TestManagerSymlinkKeepsLink(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("gemini-cli")
	path := e.install(t, c)
	target := filepath.Join(e.home, "dotfiles", "gemini-settings.json")
	os.MkdirAll(filepath.Dir(target), 0o755)
	original := []byte("{\n  \"theme\": \"GitHub\"\n}\n")
	if err := os.WriteFile(target, original, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	m := New(e.options())
	if _, err := m.Connect("gemini-cli", false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file: %v, %v", fi.Mode(), err)
	}
	if data, _ := os.ReadFile(target); !strings.Contains(string(data), EntryKey) {
		t.Fatalf("the target was not edited:\n%s", data)
	}
	if _, err := m.Disconnect("gemini-cli", false); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); !bytes.Equal(data, original) {
		t.Fatalf("target after disconnect:\n%s", data)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link is gone after disconnect: %v", err)
	}
}

// TestManagerConcurrentWriter has another program write the file between
// Tapedeck's read and its write: nothing of the other write is lost, and
// the error says so.
func TestManagerConcurrentWriter(t *testing.T) {
	for _, op := range []string{"connect", "disconnect"} {
		t.Run(op, func(t *testing.T) {
			e := newTestEnv(t)
			c, _ := Lookup("vscode")
			path := e.install(t, c)
			start := "{\n  \"servers\": {}\n}\n"
			if op == "disconnect" {
				start = "{\n  \"servers\": {\n    \"tapedeck\": {\"type\": \"stdio\", \"command\": \"/x/tapedeck\", \"args\": [\"mcp\"]}\n  }\n}\n"
			}
			os.WriteFile(path, []byte(start), 0o600)
			theirs := []byte("{\n  // written by someone else\n  \"servers\": {\"mine\": {\"command\": \"me\"}}\n}\n")
			m := New(e.options())
			m.beforeWrite = func(p string) {
				if err := os.WriteFile(p, theirs, 0o600); err != nil {
					t.Error(err)
				}
			}
			var err error
			if op == "connect" {
				_, err = m.Connect("vscode", false)
			} else {
				_, err = m.Disconnect("vscode", false)
			}
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("err = %v, want ErrChanged", err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, theirs) {
				t.Fatalf("the other program's write was lost:\n%s", got)
			}
		})
	}
}

func TestManagerReadOnlyFileByMode(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("cursor")
	path := e.install(t, c)
	content := []byte(`{"mcpServers": {}}`)
	os.WriteFile(path, content, 0o444)
	_, err := New(e.options()).Connect("cursor", false)
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("err = %v, want ErrReadOnly", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Fatalf("read-only file changed:\n%s", got)
	}
}

func TestManagerDryRunWritesNothing(t *testing.T) {
	e := newTestEnv(t)
	c, _ := Lookup("codex")
	path := e.install(t, c)
	os.WriteFile(path, []byte("model = \"o3\"\n"), 0o600)
	res, err := New(e.options()).Connect("codex", true)
	if err != nil || len(res.Changes) != 1 || !strings.Contains(string(res.Changes[0].After), "[mcp_servers.tapedeck]") {
		t.Fatalf("dry run = %+v, %v", res, err)
	}
	if got, _ := os.ReadFile(path); string(got) != "model = \"o3\"\n" {
		t.Fatalf("dry run wrote:\n%s", got)
	}
	if entries, _ := os.ReadDir(e.data); len(entries) > 0 {
		for _, d := range entries {
			sub, _ := os.ReadDir(filepath.Join(e.data, d.Name()))
			for _, s := range sub {
				if !strings.HasSuffix(s.Name(), ".lock") {
					t.Errorf("dry run left %s in the data folder", s.Name())
				}
			}
		}
	}
}

func TestManagerNotInstalled(t *testing.T) {
	e := newTestEnv(t)
	m := New(e.options())
	if _, err := m.Connect("junie", false); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("connect to a client that is not installed: err = %v, want ErrNotInstalled", err)
	}
	if _, err := m.Connect("no-such-editor", false); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("err = %v, want ErrUnknownClient", err)
	}
	st := m.StatusAll()
	if len(st) != len(table) {
		t.Fatalf("StatusAll returned %d rows, want %d", len(st), len(table))
	}
	for _, s := range st {
		if s.Installed || s.Error != "" {
			t.Errorf("%s in an empty home: %+v", s.Name, s)
		}
	}
}
