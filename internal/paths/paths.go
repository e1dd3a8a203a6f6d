// Package paths decides where Tapedeck keeps its per-user state: the data,
// cache, config and runtime folders, and the local socket (or, on Windows,
// the named pipe) the owner of a data dir serves.
//
// Resolve picks the folders from, in order, an explicit --data-dir, the
// TAPEDECK_DATA_DIR environment variable and the OS conventions. With an
// explicit data dir every other folder lives inside it, so `--data-dir X` is a
// fully separate state with its own socket. Ensure creates the folders and
// refuses a socket folder another user could have prepared.
//
//	d, err := paths.Resolve(paths.Options{DataDir: flagDataDir})
//	if err != nil { … }
//	if err := paths.Ensure(d); err != nil { … }
//	ln, err := localsock.Listen(paths.SocketPath(d), lock)
package paths

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// DataDirEnv is the environment variable that moves the data dir, like --data-dir.
const DataDirEnv = "TAPEDECK_DATA_DIR"

// maxSocketPath is the longest unix socket path that works everywhere: sun_path
// holds 104 bytes on macOS and 108 on Linux, both counting the final NUL.
const maxSocketPath = 104 - 1

// ErrNoHome reports that no home folder could be found to put the state in.
var ErrNoHome = errors.New("no home folder found")

// ErrUnsafeDir reports a socket folder that another user could write to or
// owns: a folder someone else created in /tmp before us is an attack.
var ErrUnsafeDir = errors.New("unsafe folder")

// Dirs are the per-user folders of one Tapedeck state. Runtime is empty where
// the OS offers no per-user runtime folder (Linux without XDG_RUNTIME_DIR,
// Windows); SocketPath then picks a fallback.
//
// A Dirs built by hand (not by Resolve) describes the current OS and user.
type Dirs struct {
	Data    string // components, policies, metadata, the activity log, the owner lock
	Cache   string // the compilation cache (native code: never writable by components)
	Config  string // the settings file
	Runtime string // the local socket's folder; may be empty

	goos string // the OS whose rules apply; "" means runtime.GOOS
	uid  int    // the user the fallback socket folder belongs to
	user string // the Windows user name for the pipe
	set  bool   // uid and user are filled in
}

// Options says where Resolve looks. The zero value resolves from the process
// environment for the OS this binary runs on.
type Options struct {
	// DataDir is an explicit --data-dir; empty means not given. A relative
	// path is made absolute against the working directory.
	DataDir string
	// Getenv reads an environment variable; nil means os.Getenv.
	Getenv func(string) string
	// GOOS selects whose conventions apply ("linux", "darwin", "windows",
	// other unixes follow Linux); empty means runtime.GOOS. Tests use it to
	// check every OS's rules on one machine.
	GOOS string
}

// Resolve returns the folders for opts. It touches no file: call Ensure
// before using them.
//
// # Errors
//
// ErrNoHome (wrapped) when the OS defaults need a home folder and the
// environment names none; the message suggests --data-dir.
func Resolve(opts Options) (Dirs, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	goos := opts.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	d := Dirs{goos: goos, uid: os.Getuid(), user: getenv("USERNAME"), set: true}
	if d.user == "" {
		d.user = getenv("USER")
	}

	explicit := opts.DataDir
	if explicit == "" {
		explicit = getenv(DataDirEnv)
	}
	if explicit != "" {
		data, err := absFor(goos, explicit)
		if err != nil {
			return Dirs{}, fmt.Errorf("data dir %q: %w", explicit, err)
		}
		d.Data = data
		d.Cache = joinFor(goos, data, "cache")
		d.Config = joinFor(goos, data, "config")
		if goos != "windows" {
			d.Runtime = joinFor(goos, data, "run")
		}
		return d, nil
	}

	switch goos {
	case "windows":
		local := getenv("LOCALAPPDATA")
		roaming := getenv("APPDATA")
		if local == "" || roaming == "" {
			profile := getenv("USERPROFILE")
			if profile == "" {
				return Dirs{}, fmt.Errorf("finding the state folders: LOCALAPPDATA and USERPROFILE are unset: %w; pass --data-dir or set %s", ErrNoHome, DataDirEnv)
			}
			if local == "" {
				local = joinFor(goos, profile, "AppData", "Local")
			}
			if roaming == "" {
				roaming = joinFor(goos, profile, "AppData", "Roaming")
			}
		}
		d.Data = joinFor(goos, local, "Tapedeck")
		d.Cache = joinFor(goos, local, "Tapedeck", "cache")
		d.Config = joinFor(goos, roaming, "Tapedeck")
	case "darwin", "ios":
		home := getenv("HOME")
		if home == "" {
			return Dirs{}, fmt.Errorf("finding the state folders: HOME is unset: %w; pass --data-dir or set %s", ErrNoHome, DataDirEnv)
		}
		support := joinFor(goos, home, "Library", "Application Support", "Tapedeck")
		d.Data = support
		d.Cache = joinFor(goos, home, "Library", "Caches", "Tapedeck")
		d.Config = support
		// macOS has no per-user runtime folder with a short path; the
		// socket lives beside the data, and SocketPath shortens it if needed.
		d.Runtime = joinFor(goos, support, "run")
	default:
		home := getenv("HOME")
		xdg := func(name, fallback string) (string, error) {
			// The XDG spec says relative values are invalid and must be ignored.
			if v := getenv(name); path.IsAbs(v) {
				return path.Join(v, "tapedeck"), nil
			}
			if home == "" {
				return "", fmt.Errorf("finding the state folders: %s and HOME are unset: %w; pass --data-dir or set %s", name, ErrNoHome, DataDirEnv)
			}
			return path.Join(home, fallback, "tapedeck"), nil
		}
		var err error
		if d.Data, err = xdg("XDG_DATA_HOME", ".local/share"); err != nil {
			return Dirs{}, err
		}
		if d.Cache, err = xdg("XDG_CACHE_HOME", ".cache"); err != nil {
			return Dirs{}, err
		}
		if d.Config, err = xdg("XDG_CONFIG_HOME", ".config"); err != nil {
			return Dirs{}, err
		}
		if rt := getenv("XDG_RUNTIME_DIR"); path.IsAbs(rt) {
			d.Runtime = path.Join(rt, "tapedeck")
		}
	}
	return d, nil
}

// SocketPath returns where the owner of d listens: a unix socket path, or on
// Windows a named pipe name (\\.\pipe\tapedeck-<user>-<hash>).
//
// Normally that is <Runtime>/mcp.sock. When Runtime is empty, or the path
// would not fit in a unix socket address (103 bytes, the smaller of macOS's
// and Linux's limits), it is /tmp/tapedeck-<uid>/<hash>.sock, where the hash
// is of the data dir so that every data dir has its own socket. Ensure
// creates and checks that folder.
func SocketPath(d Dirs) string {
	d = d.filled()
	if d.goos == "windows" {
		return `\\.\pipe\tapedeck-` + pipeSafe(d.user) + "-" + dataHash(d.Data)
	}
	if d.Runtime != "" {
		p := path.Join(d.Runtime, "mcp.sock")
		if len(p) <= maxSocketPath {
			return p
		}
	}
	return path.Join(fallbackSocketDir(d), dataHash(d.Data)+".sock")
}

// Protected returns the folders no component may ever read or write,
// whatever its policy says: the data, cache, config and runtime folders and
// the socket's folder. The compile cache holds native code, so write access
// there would be an escape from the sandbox. Empty and duplicate entries are
// left out; the order is stable.
func Protected(d Dirs) []string {
	d = d.filled()
	candidates := []string{d.Data, d.Cache, d.Config, d.Runtime}
	if d.goos != "windows" {
		candidates = append(candidates, path.Dir(SocketPath(d)))
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range candidates {
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// Ensure creates d's folders (mode 0700 where it creates them) and the
// socket's folder, and checks that the socket's folder is ours alone.
//
// Folders that exist are left as they are, except the socket's folder,
// which must be a real folder (not a symlink) owned by the current user with
// no access for group or others.
//
// # Errors
//
// ErrUnsafeDir (wrapped) when the socket folder fails that check; the message
// names the folder and what to do. Other errors come from the file system.
func Ensure(d Dirs) error {
	d = d.filled()
	sockDir := ""
	if d.goos != "windows" {
		sockDir = filepath.Dir(SocketPath(d))
	}
	for _, dir := range []string{d.Data, d.Cache, d.Config, d.Runtime} {
		if dir == "" || dir == sockDir {
			continue // the socket's folder is created and checked below
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating state folder: %w", err)
		}
	}
	if sockDir == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(sockDir), 0o700); err != nil {
		return fmt.Errorf("creating socket folder: %w", err)
	}
	if err := os.Mkdir(sockDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating socket folder: %w", err)
	}
	return checkPrivateDir(sockDir, d.uid)
}

// filled fills in what a hand-built Dirs lacks.
func (d Dirs) filled() Dirs {
	if d.goos == "" {
		d.goos = runtime.GOOS
	}
	if !d.set {
		d.uid = os.Getuid()
		d.user = os.Getenv("USERNAME")
		if d.user == "" {
			d.user = os.Getenv("USER")
		}
		d.set = true
	}
	return d
}

func fallbackSocketDir(d Dirs) string {
	// Not os.TempDir: macOS's per-user TMPDIR is long enough to push the
	// socket past the address limit, and /tmp exists on every unix.
	return "/tmp/tapedeck-" + strconv.Itoa(d.uid)
}

// dataHash names a data dir in 16 hex digits: short enough for a socket
// path, long enough that two data dirs never meet.
func dataHash(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:8])
}

// pipeSafe keeps a user name to the characters a pipe name can carry.
func pipeSafe(user string) string {
	if user == "" {
		return "user"
	}
	var b strings.Builder
	for _, r := range strings.ToLower(user) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// joinFor joins path elements with the separator of goos, so that Windows
// rules give Windows paths when tested on Linux and the other way round.
func joinFor(goos string, elem ...string) string {
	if goos != "windows" {
		return path.Join(elem...)
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(elem...)
	}
	parts := make([]string, 0, len(elem))
	for i, e := range elem {
		if i > 0 {
			e = strings.TrimLeft(e, `\/`)
		}
		if i < len(elem)-1 {
			e = strings.TrimRight(e, `\/`)
		}
		if e != "" {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, `\`)
}

// absFor makes p absolute for goos. Off Windows, that is filepath.Abs; a
// Windows path checked on another OS is only cleaned.
func absFor(goos, p string) (string, error) {
	if goos == "windows" && runtime.GOOS != "windows" {
		return strings.TrimRight(p, `\/`), nil
	}
	return filepath.Abs(p)
}
