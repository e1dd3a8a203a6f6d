// Package clients adds, checks and removes Tapedeck's own entry in the MCP
// config files of AI editors (Claude, VS Code, Cursor, Codex, …), so a person
// never edits those files by hand.
//
// The editors are rows of data (see Clients); one set of format editors
// (JSON/JSONC, YAML, TOML) does the work for all of them. Every edit is a
// minimal splice: comments, key order, indentation and every other entry stay
// byte for byte, and a file that does not parse is never rewritten.
//
// Usage:
//
//	bin, err := clients.Executable() // the installed tapedeck, never a `go run` one
//	m := clients.New(clients.Options{Binary: bin})
//	for _, st := range m.StatusAll() { … } // installed? connected? up to date?
//	res, err := m.Connect("cursor", false)  // false: write, true: dry run
//	res, err = m.Disconnect("cursor", false)
//
// Safety: each file edit holds a lock, re-reads the file just before an
// atomic replace (ErrChanged if another program wrote it meanwhile), keeps
// the file's mode and symlinks, and reads it back. The lock files, one
// backup per file and a record of the bytes written live in Tapedeck's data
// folder (Options.DataDir), so that a disconnect while the file is still as
// we left it restores the original byte for byte.
package clients

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// EntryKey is the key of Tapedeck's entry in every client's servers map (or
// the name of its item, for list-shaped configs).
const EntryKey = "tapedeck"

// Format is a config file's syntax.
type Format int

const (
	FormatJSON  Format = iota // strict JSON: comments would break the client
	FormatJSONC               // JSON with comments and trailing commas
	FormatYAML
	FormatTOML
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatJSONC:
		return "jsonc"
	case FormatYAML:
		return "yaml"
	case FormatTOML:
		return "toml"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// EntryShape is the shape of a stdio server entry in a client's config.
type EntryShape int

const (
	// EntryCommandArgs is {"command": PATH, "args": ["mcp"]}.
	EntryCommandArgs EntryShape = iota
	// EntryTypedStdio is {"type": "stdio", "command": PATH, "args": ["mcp"]}.
	EntryTypedStdio
	// EntryCopilot is {"type": "local", "command": PATH, "args": ["mcp"], "tools": ["*"]}.
	EntryCopilot
	// EntryOpencode is {"type": "local", "command": [PATH, "mcp"], "enabled": true}.
	EntryOpencode
	// EntryContinue is a list item {name: tapedeck, type: stdio, command: PATH, args: [mcp]}.
	EntryContinue
	// EntryGoose is {name: tapedeck, type: stdio, cmd: PATH, args: [mcp], enabled: true, …}.
	EntryGoose
)

// Path is one candidate location of a client's config file.
type Path struct {
	// GOOS limits the candidate to one OS; empty means every OS.
	GOOS string
	// Env, when set, names an environment variable that relocates the
	// client's folder: the candidate applies only when it is set, and then
	// it is the only candidate.
	Env string
	// Pattern is the file's path; see the top of table.go for its notation.
	Pattern string
	// Marker is the folder whose existence means the client is installed;
	// empty means the file's own folder.
	Marker string
	// OnlyIfExists makes the candidate count only when the file exists.
	OnlyIfExists bool
}

// Client is one MCP client: a row of the table.
type Client struct {
	Name        string // the name on the command line, such as "claude-desktop"
	DisplayName string
	Format      Format
	// Servers is the key path from the document root to the servers map (or
	// list, for EntryContinue).
	Servers []string
	Entry   EntryShape
	// Paths are the candidate config files, most preferred first.
	Paths []Path
	// Also are further files (globs) that get the same edit when they exist,
	// such as VS Code's per-profile mcp.json.
	Also []Path
	// Restart reports that the client reads its config only at start.
	Restart bool
	// RewritesOwnFile reports that the client rewrites the file itself, so a
	// write is checked by content, not bytes.
	RewritesOwnFile bool
	// CLI, when set, is the client's own command that adds and removes
	// servers; it is preferred to editing the file when it is on PATH.
	CLI *ClientCLI
}

// ClientCLI is a client's own command for managing its MCP servers.
type ClientCLI struct {
	Command string   // looked up on PATH, such as "claude"
	Add     []string // arguments to add our entry; "{entry}" becomes its JSON
	Remove  []string // arguments to remove our entry
}

// Clients returns the table of supported clients, sorted by name. The result
// is a copy; changing it changes nothing here.
func Clients() []Client {
	out := make([]Client, len(table))
	for i, c := range table {
		out[i] = c.clone()
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Names returns the command-line names of the supported clients, sorted.
func Names() []string {
	var names []string
	for _, c := range Clients() {
		names = append(names, c.Name)
	}
	return names
}

// Lookup returns (a copy of) the client called name.
func Lookup(name string) (Client, bool) {
	for _, c := range table {
		if c.Name == name {
			return c.clone(), true
		}
	}
	return Client{}, false
}

// clone copies c deeply, so callers cannot change the table.
func (c Client) clone() Client {
	c.Servers = slices.Clone(c.Servers)
	c.Paths = slices.Clone(c.Paths)
	c.Also = slices.Clone(c.Also)
	if c.CLI != nil {
		cli := *c.CLI
		cli.Add, cli.Remove = slices.Clone(cli.Add), slices.Clone(cli.Remove)
		c.CLI = &cli
	}
	return c
}

// Options says where things are. The zero value uses the running process's
// environment and OS; tests point every field at a temporary folder.
type Options struct {
	// Home is the user's home folder; empty means $HOME (Getenv), else os.UserHomeDir.
	Home string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// GOOS selects the paths of one OS; empty means runtime.GOOS.
	GOOS string
	// DataDir is Tapedeck's own data folder, which keeps the lock files,
	// backups and the record of what was written; empty means the default
	// (see DefaultDataDir).
	DataDir string
	// Binary is the absolute path of the tapedeck binary that entries point
	// at. Connect requires it; use Executable to find the running one.
	Binary string
	// NoClientCLI makes every edit a file edit, even where a client's own
	// CLI (Client.CLI) is on PATH.
	NoClientCLI bool
}

func (o *Options) getenv(k string) string {
	if o.Getenv == nil {
		return os.Getenv(k)
	}
	return o.Getenv(k)
}

func (o *Options) goos() string {
	if o.GOOS == "" {
		return runtime.GOOS
	}
	return o.GOOS
}

func (o *Options) home() (string, error) {
	if o.Home != "" {
		return o.Home, nil
	}
	if h := o.getenv("HOME"); h != "" {
		return h, nil
	}
	if o.goos() == "windows" {
		if h := o.getenv("USERPROFILE"); h != "" {
			return h, nil
		}
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home folder: %w (set HOME)", err)
	}
	return h, nil
}

// DefaultDataDir returns Tapedeck's data folder: $TAPEDECK_DATA_DIR, else
// $XDG_DATA_HOME/tapedeck, else the OS's usual place.
func DefaultDataDir(o Options) (string, error) {
	if d := o.getenv("TAPEDECK_DATA_DIR"); d != "" {
		return d, nil
	}
	home, err := o.home()
	if err != nil {
		return "", err
	}
	switch o.goos() {
	case "darwin":
		return filepath.Join(home, "Library", "Application Support", "Tapedeck"), nil
	case "windows":
		if d := o.getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "Tapedeck"), nil
		}
		return filepath.Join(home, "AppData", "Local", "Tapedeck"), nil
	}
	if d := o.getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tapedeck"), nil
	}
	return filepath.Join(home, ".local", "share", "tapedeck"), nil
}

// expand turns a path pattern into a path for o's OS and environment.
func (o *Options) expand(pattern, env string) (string, error) {
	home, err := o.home()
	if err != nil {
		return "", err
	}
	xdg := o.getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	appdata := o.getenv("APPDATA")
	if appdata == "" {
		appdata = filepath.Join(home, "AppData", "Roaming")
	}
	localappdata := o.getenv("LOCALAPPDATA")
	if localappdata == "" {
		localappdata = filepath.Join(home, "AppData", "Local")
	}
	config := xdg
	switch o.goos() {
	case "darwin":
		config = filepath.Join(home, "Library", "Application Support")
	case "windows":
		config = appdata
	}
	r := strings.NewReplacer("{config}", config, "{xdg}", xdg, "{appdata}", appdata,
		"{localappdata}", localappdata, "{env}", env)
	p := r.Replace(pattern)
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = home + p[1:]
	}
	return filepath.FromSlash(p), nil
}

// candidates returns the paths that apply on o's OS, in order: a set
// environment override replaces the rest.
func (o *Options) candidates(paths []Path) ([]Path, error) {
	var out []Path
	for _, p := range paths {
		if p.GOOS != "" && p.GOOS != o.goos() {
			continue
		}
		if p.Env != "" {
			v := o.getenv(p.Env)
			if v == "" {
				continue
			}
			file, err := o.expand(p.Pattern, v)
			if err != nil {
				return nil, err
			}
			return []Path{{Pattern: file, Marker: filepath.Dir(file)}}, nil
		}
		file, err := o.expand(p.Pattern, "")
		if err != nil {
			return nil, err
		}
		marker := filepath.Dir(file)
		if p.Marker != "" {
			if marker, err = o.expand(p.Marker, ""); err != nil {
				return nil, err
			}
		}
		out = append(out, Path{Pattern: file, Marker: marker, OnlyIfExists: p.OnlyIfExists})
	}
	return out, nil
}

// location is where a client's config is on this machine.
type location struct {
	installed bool
	file      string   // the primary config file (may not exist yet)
	also      []string // further existing files that get the same edit
}

// locate finds c's config files. A client counts as installed when a config
// file or its folder (or marker) exists.
func (o *Options) locate(c Client) (location, error) {
	cands, err := o.candidates(c.Paths)
	if err != nil {
		return location{}, err
	}
	var loc location
	for _, p := range cands {
		matches := []string{p.Pattern}
		if strings.Contains(p.Pattern, "*") {
			matches, _ = filepath.Glob(p.Pattern) // the only error is a bad pattern, and ours are fixed
		}
		for _, m := range matches {
			if exists(m) {
				loc = location{installed: true, file: m}
				break
			}
		}
		if loc.file != "" {
			break
		}
	}
	if loc.file == "" {
		for _, p := range cands {
			if p.OnlyIfExists || strings.Contains(p.Pattern, "*") {
				continue
			}
			if loc.file == "" {
				loc.file = p.Pattern
			}
			if isDir(p.Marker) {
				loc = location{installed: true, file: p.Pattern}
				break
			}
		}
	}
	if loc.file == "" {
		return location{}, fmt.Errorf("%s: no config location on %s", c.Name, o.goos())
	}
	also, err := o.candidates(c.Also)
	if err != nil {
		return location{}, err
	}
	for _, p := range also {
		matches, _ := filepath.Glob(p.Pattern)
		for _, m := range matches {
			if !sameFile(m, loc.file) && !slices.Contains(loc.also, m) && exists(m) {
				loc.also = append(loc.also, m)
			}
		}
	}
	return loc, nil
}

func exists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// ErrTemporaryBinary reports a tapedeck binary in a temporary or build-cache
// folder (as under `go run`): an editor would lose it at the next clean.
var ErrTemporaryBinary = errors.New("the tapedeck binary is in a temporary folder")

// Executable returns the absolute path of the running tapedeck binary, with
// symlinks resolved. A binary under os.TempDir() or the Go build cache is
// refused with ErrTemporaryBinary and a hint to install it.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the tapedeck binary: %w (pass --command PATH)", err)
	}
	return CheckBinary(exe, os.Getenv("GOCACHE"))
}

// CheckBinary resolves path to an absolute, symlink-free path and refuses a
// binary in a temporary folder or under gocache (empty: the default cache).
func CheckBinary(path, gocache string) (string, error) {
	return checkBinary(path, []string{os.TempDir(), gocache, defaultGoCache()})
}

func checkBinary(path string, tempDirs []string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("binary %s: %w", path, err)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("binary %s: %w", path, err)
	} else if fi.IsDir() {
		return "", fmt.Errorf("binary %s is a folder", path)
	}
	for _, d := range tempDirs {
		if d == "" {
			continue
		}
		resolved := d
		if r, err := filepath.EvalSymlinks(d); err == nil {
			resolved = r
		}
		if within(abs, d) || within(abs, resolved) {
			return "", fmt.Errorf("%w (%s): editors would lose it; install Tapedeck first ("+
				"`make build` puts it at build/tapedeck, or `go install`), or pass --command PATH",
				ErrTemporaryBinary, abs)
		}
	}
	return abs, nil
}

func defaultGoCache() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "go-build")
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
