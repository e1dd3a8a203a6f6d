package clients

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTableIsComplete(t *testing.T) {
	want := []string{"amazon-q", "claude-code", "claude-desktop", "cline", "codex", "continue", "copilot-cli",
		"cursor", "gemini-cli", "goose", "junie", "lm-studio", "opencode", "vscode", "vscode-insiders", "windsurf", "zed"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v\nwant %v", got, want)
	}
	for _, c := range Clients() {
		if c.DisplayName == "" || len(c.Servers) == 0 || len(c.Paths) == 0 {
			t.Errorf("%s: incomplete row %+v", c.Name, c)
		}
		for _, goos := range []string{"linux", "darwin", "windows"} {
			o := Options{Home: "/h", GOOS: goos, Getenv: func(string) string { return "" }}
			if _, err := o.locate(c); err != nil {
				t.Errorf("%s on %s: %v", c.Name, goos, err)
			}
		}
	}
}

// TestConfigPaths checks where each OS and environment puts a config file
// when nothing is installed yet (the first candidate that applies).
func TestConfigPaths(t *testing.T) {
	tests := []struct {
		name, client, goos string
		env                map[string]string
		want               string
	}{
		{"claude-desktop-linux", "claude-desktop", "linux", nil, "/h/.config/Claude/claude_desktop_config.json"},
		{"claude-desktop-xdg", "claude-desktop", "linux", map[string]string{"XDG_CONFIG_HOME": "/x"}, "/x/Claude/claude_desktop_config.json"},
		{"claude-desktop-mac", "claude-desktop", "darwin", nil, "/h/Library/Application Support/Claude/claude_desktop_config.json"},
		{"claude-desktop-windows", "claude-desktop", "windows", map[string]string{"APPDATA": "/w/Roaming"}, "/w/Roaming/Claude/claude_desktop_config.json"},
		{"claude-code", "claude-code", "linux", nil, "/h/.claude.json"},
		{"claude-code-config-dir", "claude-code", "linux", map[string]string{"CLAUDE_CONFIG_DIR": "/c"}, "/c/.claude.json"},
		{"vscode-mac", "vscode", "darwin", nil, "/h/Library/Application Support/Code/User/mcp.json"},
		{"vscode-insiders", "vscode-insiders", "linux", nil, "/h/.config/Code - Insiders/User/mcp.json"},
		{"codex", "codex", "linux", nil, "/h/.codex/config.toml"},
		{"codex-home", "codex", "darwin", map[string]string{"CODEX_HOME": "/ch"}, "/ch/config.toml"},
		{"zed-mac", "zed", "darwin", nil, "/h/.config/zed/settings.json"},
		{"zed-windows", "zed", "windows", map[string]string{"APPDATA": "/w/Roaming"}, "/w/Roaming/Zed/settings.json"},
		{"goose-windows", "goose", "windows", map[string]string{"APPDATA": "/w/Roaming"}, "/w/Roaming/Block/goose/config/config.yaml"},
		{"opencode", "opencode", "linux", nil, "/h/.config/opencode/opencode.json"},
		{"copilot-home", "copilot-cli", "linux", map[string]string{"COPILOT_HOME": "/cp"}, "/cp/mcp-config.json"},
		{"cline-windows", "cline", "windows", map[string]string{"APPDATA": "/w/Roaming"}, "/w/Roaming/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"},
		{"windsurf", "windsurf", "linux", nil, "/h/.codeium/windsurf/mcp_config.json"},
		{"amazon-q", "amazon-q", "windows", nil, "/h/.aws/amazonq/mcp.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := Lookup(tt.client)
			o := Options{Home: "/h", GOOS: tt.goos, Getenv: func(k string) string { return tt.env[k] }}
			loc, err := o.locate(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := filepath.ToSlash(loc.file); got != tt.want || loc.installed {
				t.Fatalf("locate = %q (installed %v), want %q (not installed)", got, loc.installed, tt.want)
			}
		})
	}
}

func TestLocateFindsExistingFiles(t *testing.T) {
	home := t.TempDir()
	write := func(rel string) string {
		p := filepath.Join(home, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	msix := write("AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/claude_desktop_config.json")
	profile := write(".config/Code/User/profiles/-5a3b/mcp.json")
	os.MkdirAll(filepath.Join(home, ".config/Code/User"), 0o755)
	devin := write(".config/devin/mcp_config.json")
	codeium := write(".codeium/windsurf/mcp_config.json")
	jsonc := write(".config/opencode/opencode.jsonc")

	tests := []struct {
		client, goos, wantFile string
		wantAlso               []string
	}{
		{"claude-desktop", "windows", msix, nil},
		{"vscode", "linux", filepath.Join(home, ".config/Code/User/mcp.json"), []string{profile}},
		{"windsurf", "linux", codeium, []string{devin}},
		{"opencode", "linux", jsonc, nil},
	}
	for _, tt := range tests {
		t.Run(tt.client, func(t *testing.T) {
			c, _ := Lookup(tt.client)
			o := Options{Home: home, GOOS: tt.goos, Getenv: func(string) string { return "" }}
			loc, err := o.locate(c)
			if err != nil {
				t.Fatal(err)
			}
			if !loc.installed || loc.file != tt.wantFile || !slices.Equal(loc.also, tt.wantAlso) {
				t.Fatalf("locate = %+v, want file %s also %v", loc, tt.wantFile, tt.wantAlso)
			}
		})
	}
}

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name, goos string
		env        map[string]string
		want       string
	}{
		{"override", "linux", map[string]string{"TAPEDECK_DATA_DIR": "/d"}, "/d"},
		{"xdg", "linux", map[string]string{"XDG_DATA_HOME": "/x"}, "/x/tapedeck"},
		{"linux", "linux", nil, "/h/.local/share/tapedeck"},
		{"mac", "darwin", nil, "/h/Library/Application Support/Tapedeck"},
		{"windows", "windows", map[string]string{"LOCALAPPDATA": "/w/Local"}, "/w/Local/Tapedeck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultDataDir(Options{Home: "/h", GOOS: tt.goos, Getenv: func(k string) string { return tt.env[k] }})
			if err != nil || filepath.ToSlash(got) != tt.want {
				t.Fatalf("DefaultDataDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckBinary(t *testing.T) {
	tmp := filepath.Join(os.TempDir(), "tapedeck-checkbinary-"+strings.ReplaceAll(t.Name(), "/", "-"))
	os.WriteFile(tmp, []byte("x"), 0o755)
	t.Cleanup(func() { os.Remove(tmp) })
	if _, err := CheckBinary(tmp, ""); !errors.Is(err, ErrTemporaryBinary) || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("binary in the temp folder: err = %v, want ErrTemporaryBinary with a hint", err)
	}

	root := t.TempDir()
	cache := filepath.Join(root, "cache")
	inCache := filepath.Join(cache, "b001", "exe", "tapedeck")
	installed := filepath.Join(root, "opt", "tapedeck")
	link := filepath.Join(root, "bin", "tapedeck")
	for _, p := range []string{inCache, installed} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(installed, link); err != nil {
		t.Fatal(err)
	}
	temps := []string{cache}
	if _, err := checkBinary(inCache, temps); !errors.Is(err, ErrTemporaryBinary) {
		t.Fatalf("binary in the build cache: err = %v, want ErrTemporaryBinary", err)
	}
	if _, err := checkBinary(filepath.Dir(installed), temps); err == nil || errors.Is(err, ErrTemporaryBinary) {
		t.Fatalf("a folder: err = %v, want a plain error", err)
	}
	want, _ := filepath.EvalSymlinks(installed)
	if got, err := checkBinary(link, temps); err != nil || got != want {
		t.Fatalf("checkBinary(link) = %q, %v; want the resolved %q", got, err, want)
	}
}

func TestIsOurs(t *testing.T) {
	tests := []struct {
		name  string
		entry any
		want  bool
	}{
		{"plain", map[string]any{"command": "/usr/bin/tapedeck", "args": []any{"mcp"}}, true},
		{"windows", map[string]any{"command": `C:\Program Files\Tapedeck\tapedeck.exe`, "args": []any{"mcp"}}, true},
		{"goose", map[string]any{"cmd": "/x/tapedeck", "args": []any{"mcp"}}, true},
		{"opencode", map[string]any{"command": []any{"/x/tapedeck", "mcp"}}, true},
		{"other-binary", map[string]any{"command": "npx", "args": []any{"tapedeck"}}, false},
		{"other-args", map[string]any{"command": "/x/tapedeck", "args": []any{"serve"}}, false},
		{"no-args", map[string]any{"command": "/x/tapedeck"}, false},
		{"not-an-object", "tapedeck", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isOurs(tt.entry); got != tt.want {
				t.Fatalf("isOurs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChangeDiff(t *testing.T) {
	ch := Change{Path: "/x/mcp.json", Before: []byte("a\nb\nc\n"), After: []byte("a\nb\nnew\nc\n")}
	want := "--- a/x/mcp.json\n+++ b/x/mcp.json\n@@ -1,3 +1,4 @@\n a\n b\n+new\n c\n"
	if got := ch.Diff(); got != want {
		t.Fatalf("Diff =\n%s\nwant\n%s", got, want)
	}
	created := Change{Path: "/x/new.json", After: []byte("{}"), Created: true}
	if got := created.Diff(); !strings.HasPrefix(got, "--- /dev/null\n+++ b/x/new.json\n@@ -0,0 +1,1 @@\n+{}\n\\ No newline at end of file\n") {
		t.Fatalf("Diff of a new file =\n%s", got)
	}
}
