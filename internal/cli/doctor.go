package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/mcpbridge/clients"
	"tapedeck.dev/tapedeck/sandbox/secrets"
)

var doctorCmd = &Command{
	Name:  "doctor",
	Args:  "[-o table|json|yaml]",
	Short: "check the owner, socket, keychain, tray, editors and versions, and say what to fix",
	Long: `Each line is ok, warn or fail, with what to do about it. Exits 1 when a check
fails. It changes nothing, but for probing the OS keychain when no Tapedeck
runs (which moves secrets from the fallback file into a keychain that now works).`,
	Run: runDoctor,
}

// checkStatus is a check's verdict.
type checkStatus string

const (
	checkOK   checkStatus = "ok"
	checkWarn checkStatus = "warn"
	checkFail checkStatus = "fail"
)

// check is one line of the doctor's report.
type check struct {
	Name   string      `json:"name"`
	Status checkStatus `json:"status"`
	Detail string      `json:"detail"`
	Fix    string      `json:"fix,omitempty"`
}

func runDoctor(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "doctor", "[-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return UsageError("doctor takes no arguments")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return err
	}
	owner, ownerRuns := checkOwner(ctx, dirs)
	checks := []check{
		checkDataDir(dirs),
		owner,
		checkKeychain(env, dirs, ownerRuns),
		checkTray(ctx, env),
	}
	checks = append(checks, checkEditors(env)...)
	checks = append(checks, checkVersions())

	err = writeData(env.Stdout, format, checks, func(w io.Writer) {
		for _, c := range checks {
			fmt.Fprintf(w, "%s\t%s\t%s\n", c.Status, c.Name, c.Detail)
			if c.Fix != "" {
				fmt.Fprintf(w, "\t\t→ %s\n", c.Fix)
			}
		}
	})
	if err != nil {
		return err
	}
	for _, c := range checks {
		if c.Status == checkFail {
			return &ExitError{Code: ExitFailure}
		}
	}
	return nil
}

func checkDataDir(dirs paths.Dirs) check {
	c := check{Name: "data dir", Status: checkOK, Detail: dirs.Data}
	fi, err := os.Stat(dirs.Data)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.Status, c.Detail = checkWarn, dirs.Data+" does not exist yet"
		c.Fix = "nothing to do: Tapedeck creates it on first use"
	case err != nil:
		c.Status, c.Detail, c.Fix = checkFail, err.Error(), "check the folder's permissions, or use --data-dir"
	case !fi.IsDir():
		c.Status, c.Detail, c.Fix = checkFail, dirs.Data+" is not a folder", "move it away, or use --data-dir"
	case fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows":
		c.Status, c.Detail = checkWarn, fmt.Sprintf("%s is open to other users (mode %v)", dirs.Data, fi.Mode().Perm())
		c.Fix = "chmod 700 " + dirs.Data
	}
	return c
}

// checkOwner reports whether an owner runs and answers on the socket.
// It does not take the lock, so it never gets in the way of an owner
// starting at the same moment.
func checkOwner(ctx context.Context, dirs paths.Dirs) (check, bool) {
	socket := paths.SocketPath(dirs)
	c := check{Name: "owner and socket"}
	rec, recorded, err := ownerlock.ReadOwner(dirs.Data)
	if err != nil {
		c.Status, c.Detail, c.Fix = checkWarn, err.Error(), "check the data dir's permissions"
		return c, false
	}
	if !recorded {
		c.Status = checkOK
		c.Detail = "no Tapedeck owns this data dir now; `tapedeck mcp` starts one when an editor connects"
		return c, false
	}
	remote, err := dialOwner(ctx, socket, rec.PID)
	if err != nil {
		c.Status = checkWarn
		c.Detail = fmt.Sprintf("pid %d recorded itself as the owner, but nothing answers on %s", rec.PID, socket)
		c.Fix = "if that process is gone (a crash), nothing to do: the next start takes over; if it runs, it is stuck: stop it"
		return c, false
	}
	defer remote.Close()
	c.Status = checkOK
	c.Detail = fmt.Sprintf("pid %d owns the data dir (since %s) and answers on %s", rec.PID, rec.Started.Local().Format("2006-01-02 15:04"), socket)
	if remote.ctl == nil {
		c.Status = checkWarn
		c.Detail += ", but serves no control socket, so grants, secrets and enable/disable from the command line are refused while it runs"
		c.Fix = "use the tray for those, or restart it with a build that serves " + control.SocketPath(socket)
	}
	if ir := remote.cs.InitializeResult(); ir != nil && ir.ServerInfo != nil && ir.ServerInfo.Version != Version {
		c.Status = checkWarn
		c.Detail += fmt.Sprintf("; it runs version %s, this is %s", ir.ServerInfo.Version, Version)
		c.Fix = "restart it (quit the tray app, or stop `tapedeck serve`) so it runs this version"
	}
	return c, true
}

// checkKeychain says where secrets are kept. With an owner running it only
// looks: opening the store would probe the keychain and could move the
// owner's fallback file into it under its feet.
func checkKeychain(env *Env, dirs paths.Dirs, ownerRuns bool) check {
	c := check{Name: "keychain"}
	if ownerRuns {
		if _, err := os.Stat(filepath.Join(dirs.Data, "secrets", "secrets.json")); err == nil {
			c.Status, c.Detail = checkWarn, "the running Tapedeck keeps secrets in its 0600 fallback file, not the OS keychain"
			c.Fix = "install and unlock a keychain (gnome-keyring or KeePassXC's Secret Service on Linux), then restart Tapedeck"
			return c
		}
		c.Status, c.Detail = checkOK, "the running Tapedeck keeps secrets in the OS keychain"
		return c
	}
	if _, err := os.Stat(dirs.Data); err != nil {
		c.Status, c.Detail = checkOK, "not checked: the data dir does not exist yet"
		return c
	}
	s, err := secrets.Open(secrets.Options{Dir: dirs.Data})
	if err != nil {
		c.Status, c.Detail, c.Fix = checkFail, err.Error(), "fix or move away the file it names"
		return c
	}
	if s.Backend() == secrets.BackendKeychain {
		c.Status, c.Detail = checkOK, "secrets are kept in the OS keychain"
		return c
	}
	c.Status, c.Detail = checkWarn, "secrets are kept in a 0600 file in the data dir"
	c.Fix = s.Warning()
	return c
}

func checkEditors(env *Env) []check {
	opts, binErr := clientOptions(env, "")
	var out []check
	for _, st := range clients.New(opts).StatusAll() {
		if !st.Installed && !st.Connected {
			continue
		}
		c := check{Name: "editor " + st.Name}
		switch {
		case st.Error != "":
			c.Status, c.Detail, c.Fix = checkWarn, st.ConfigPath+": "+st.Error, "fix that file, then `tapedeck clients connect "+st.Name+"`"
		case st.Conflict:
			c.Status, c.Detail = checkWarn, "an entry named tapedeck in "+st.ConfigPath+" is not Tapedeck's"
			c.Fix = "rename or remove it, then `tapedeck clients connect " + st.Name + "`"
		case !st.Connected:
			c.Status, c.Detail = checkOK, st.DisplayName+" is installed and not connected"
			c.Fix = "to use Tapedeck from it: `tapedeck clients connect " + st.Name + "`"
		case binErr == nil && !st.UpToDate:
			c.Status, c.Detail = checkWarn, st.DisplayName+" runs another tapedeck binary than this one"
			c.Fix = "`tapedeck clients connect " + st.Name + "` points it here"
		default:
			c.Status, c.Detail = checkOK, st.DisplayName+" is connected"
			if st.NeedsRestart {
				c.Detail += "; restart it if it was open when it was connected"
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		out = append(out, check{Name: "editors", Status: checkWarn, Detail: "no supported editor found",
			Fix: "install one, then `tapedeck clients connect NAME` (`tapedeck clients list` shows the names)"})
	}
	return out
}

func checkVersions() check {
	parts := []string{"tapedeck " + Version, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/tetratelabs/wazero", "github.com/modelcontextprotocol/go-sdk":
				parts = append(parts, filepath.Base(d.Path)+" "+d.Version)
			}
		}
	}
	return check{Name: "versions", Status: checkOK, Detail: strings.Join(parts, ", ")}
}
