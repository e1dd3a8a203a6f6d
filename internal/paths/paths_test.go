package paths

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want Dirs // only the exported fields are compared
	}{
		{
			name: "linux_xdg",
			opts: Options{GOOS: "linux", Getenv: envOf(map[string]string{
				"HOME": "/home/ann", "XDG_DATA_HOME": "/d", "XDG_CACHE_HOME": "/c",
				"XDG_CONFIG_HOME": "/f", "XDG_RUNTIME_DIR": "/run/user/1000",
			})},
			want: Dirs{Data: "/d/tapedeck", Cache: "/c/tapedeck", Config: "/f/tapedeck", Runtime: "/run/user/1000/tapedeck"},
		},
		{
			name: "linux_home_defaults_no_runtime",
			opts: Options{GOOS: "linux", Getenv: envOf(map[string]string{"HOME": "/home/ann"})},
			want: Dirs{Data: "/home/ann/.local/share/tapedeck", Cache: "/home/ann/.cache/tapedeck", Config: "/home/ann/.config/tapedeck"},
		},
		{
			name: "linux_relative_xdg_ignored",
			opts: Options{GOOS: "linux", Getenv: envOf(map[string]string{
				"HOME": "/home/ann", "XDG_DATA_HOME": "rel", "XDG_RUNTIME_DIR": "run",
			})},
			want: Dirs{Data: "/home/ann/.local/share/tapedeck", Cache: "/home/ann/.cache/tapedeck", Config: "/home/ann/.config/tapedeck"},
		},
		{
			name: "explicit_beats_env",
			opts: Options{GOOS: "linux", DataDir: "/x", Getenv: envOf(map[string]string{
				"HOME": "/home/ann", DataDirEnv: "/y", "XDG_RUNTIME_DIR": "/run/user/1000",
			})},
			want: Dirs{Data: "/x", Cache: "/x/cache", Config: "/x/config", Runtime: "/x/run"},
		},
		{
			name: "env_data_dir",
			opts: Options{GOOS: "linux", Getenv: envOf(map[string]string{DataDirEnv: "/y/"})},
			want: Dirs{Data: "/y", Cache: "/y/cache", Config: "/y/config", Runtime: "/y/run"},
		},
		{
			name: "darwin",
			opts: Options{GOOS: "darwin", Getenv: envOf(map[string]string{"HOME": "/Users/ann"})},
			want: Dirs{
				Data:    "/Users/ann/Library/Application Support/Tapedeck",
				Cache:   "/Users/ann/Library/Caches/Tapedeck",
				Config:  "/Users/ann/Library/Application Support/Tapedeck",
				Runtime: "/Users/ann/Library/Application Support/Tapedeck/run",
			},
		},
		{
			name: "windows",
			opts: Options{GOOS: "windows", Getenv: envOf(map[string]string{
				"LOCALAPPDATA": `C:\Users\ann\AppData\Local`, "APPDATA": `C:\Users\ann\AppData\Roaming`,
			})},
			want: Dirs{
				Data:   `C:\Users\ann\AppData\Local\Tapedeck`,
				Cache:  `C:\Users\ann\AppData\Local\Tapedeck\cache`,
				Config: `C:\Users\ann\AppData\Roaming\Tapedeck`,
			},
		},
		{
			name: "windows_from_profile",
			opts: Options{GOOS: "windows", Getenv: envOf(map[string]string{"USERPROFILE": `C:\Users\ann`})},
			want: Dirs{
				Data:   `C:\Users\ann\AppData\Local\Tapedeck`,
				Cache:  `C:\Users\ann\AppData\Local\Tapedeck\cache`,
				Config: `C:\Users\ann\AppData\Roaming\Tapedeck`,
			},
		},
		{
			name: "windows_explicit",
			opts: Options{GOOS: "windows", DataDir: `D:\state\`, Getenv: envOf(nil)},
			want: Dirs{Data: `D:\state`, Cache: `D:\state\cache`, Config: `D:\state\config`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got = Dirs{Data: got.Data, Cache: got.Cache, Config: got.Config, Runtime: got.Runtime}
			if got != tt.want {
				t.Errorf("Resolve = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}

func TestResolveRelativeDataDir(t *testing.T) {
	got, err := Resolve(Options{GOOS: runtime.GOOS, DataDir: "state", Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "state"); got.Data != want {
		t.Errorf("Data = %q, want %q", got.Data, want)
	}
}

func TestResolveNoHome(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		t.Run(goos, func(t *testing.T) {
			_, err := Resolve(Options{GOOS: goos, Getenv: envOf(nil)})
			if !errors.Is(err, ErrNoHome) {
				t.Fatalf("err = %v, want ErrNoHome", err)
			}
			if !strings.Contains(err.Error(), "--data-dir") {
				t.Errorf("error %q does not say how to fix it", err)
			}
		})
	}
}

func TestSocketPath(t *testing.T) {
	uid := strconv.Itoa(os.Getuid())
	long := "/home/" + strings.Repeat("a", 100)
	tests := []struct {
		name     string
		env      map[string]string
		goos     string
		dataDir  string
		want     string // exact, or empty to check the fallback shape
		fallback bool
	}{
		{name: "runtime_dir", goos: "linux", env: map[string]string{"HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/7"}, want: "/run/user/7/tapedeck/mcp.sock"},
		{name: "no_runtime_dir", goos: "linux", env: map[string]string{"HOME": "/h"}, fallback: true},
		{name: "explicit_short", goos: "linux", dataDir: "/srv/td", env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/7"}, want: "/srv/td/run/mcp.sock"},
		{name: "explicit_too_long", goos: "linux", dataDir: long, fallback: true},
		{name: "darwin_too_long", goos: "darwin", env: map[string]string{"HOME": long}, fallback: true},
		{name: "darwin_short", goos: "darwin", env: map[string]string{"HOME": "/Users/ann"}, want: "/Users/ann/Library/Application Support/Tapedeck/run/mcp.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Resolve(Options{GOOS: tt.goos, DataDir: tt.dataDir, Getenv: envOf(tt.env)})
			if err != nil {
				t.Fatal(err)
			}
			got := SocketPath(d)
			if len(got) > maxSocketPath {
				t.Errorf("SocketPath = %q is %d bytes, over the %d limit", got, len(got), maxSocketPath)
			}
			if !tt.fallback {
				if got != tt.want {
					t.Errorf("SocketPath = %q, want %q", got, tt.want)
				}
				return
			}
			wantDir := "/tmp/tapedeck-" + uid + "/"
			if !strings.HasPrefix(got, wantDir) || !strings.HasSuffix(got, ".sock") {
				t.Errorf("SocketPath = %q, want %s<hash>.sock", got, wantDir)
			}
		})
	}
}

func TestSocketPathFollowsDataDir(t *testing.T) {
	// Two data dirs without a runtime folder must not share a socket.
	a, _ := Resolve(Options{GOOS: "linux", DataDir: "/" + strings.Repeat("a", 120)})
	b, _ := Resolve(Options{GOOS: "linux", DataDir: "/" + strings.Repeat("b", 120)})
	if SocketPath(a) == SocketPath(b) {
		t.Fatalf("both data dirs use %s", SocketPath(a))
	}
	if SocketPath(a) != SocketPath(a) {
		t.Fatal("SocketPath is not stable")
	}
}

func TestSocketPathWindows(t *testing.T) {
	env := map[string]string{"LOCALAPPDATA": `C:\L`, "APPDATA": `C:\R`, "USERNAME": `Ann Lee`}
	d, err := Resolve(Options{GOOS: "windows", Getenv: envOf(env)})
	if err != nil {
		t.Fatal(err)
	}
	got := SocketPath(d)
	if want := `\\.\pipe\tapedeck-ann_lee-` + dataHash(`C:\L\Tapedeck`); got != want {
		t.Errorf("SocketPath = %q, want %q", got, want)
	}
	for _, p := range Protected(d) {
		if strings.HasPrefix(p, `\\.\pipe`) {
			t.Errorf("Protected lists the pipe %q as a folder", p)
		}
	}
}

func TestProtected(t *testing.T) {
	d, err := Resolve(Options{GOOS: "linux", Getenv: envOf(map[string]string{"HOME": "/h"})})
	if err != nil {
		t.Fatal(err)
	}
	got := Protected(d)
	want := []string{d.Data, d.Cache, d.Config, filepath.Dir(SocketPath(d))}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Protected = %q, want %q", got, want)
	}
	// The runtime folder is the socket's folder here: listed once.
	d, _ = Resolve(Options{GOOS: "linux", DataDir: "/s"})
	got = Protected(d)
	want = []string{"/s", "/s/cache", "/s/config", "/s/run"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Protected = %q, want %q", got, want)
	}
}

func TestEnsure(t *testing.T) {
	dir := t.TempDir()
	d, err := Resolve(Options{DataDir: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	if err := Ensure(d); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	for _, p := range Protected(d) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want a 0700 folder", p, fi.Mode())
		}
	}
	// Ensure is idempotent.
	if err := Ensure(d); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
}
