package clients

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// cliTimeout bounds one run of a client's own CLI.
const cliTimeout = 60 * time.Second

// clientCLI returns the path of c's own CLI when it should do the edit.
func (o *Options) clientCLI(c Client) string {
	if c.CLI == nil || o.NoClientCLI {
		return ""
	}
	return lookPath(c.CLI.Command, o.getenv("PATH"), o.goos())
}

// lookPath finds command in the folders of path (not the process's PATH,
// which Options may override).
func lookPath(command, path, goos string) string {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		for _, ext := range []string{"", ".exe", ".cmd"} {
			if ext != "" && goos != "windows" {
				break
			}
			p := filepath.Join(dir, command+ext)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && (goos == "windows" || fi.Mode()&0o111 != 0) {
				return p
			}
		}
	}
	return ""
}

// runCLI runs a client's CLI with args, in the environment Options
// describes (so HOME and the client's own variables point where we read).
func (o *Options) runCLI(cli string, args []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, args...)
	env := os.Environ()
	if o.Getenv != nil {
		env = nil
		for _, k := range []string{"PATH", "HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
			"XDG_CONFIG_HOME", "CLAUDE_CONFIG_DIR", "TMPDIR", "SYSTEMROOT"} {
			if v := o.getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	if home, err := o.home(); err == nil && o.Getenv == nil {
		env = append(env, "HOME="+home)
	}
	cmd.Env = env
	cmd.Dir = os.TempDir()
	if runtime.GOOS != "windows" {
		cmd.Dir = "/"
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(cli), strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// cliArgs fills "{entry}" in args with the entry's JSON.
func cliArgs(args []string, want []field) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "{entry}" {
			var b strings.Builder
			b.WriteString("{")
			for j, f := range want {
				if j > 0 {
					b.WriteString(",")
				}
				b.WriteString(jsonString(f.key) + ":" + jsonScalar(f.value))
			}
			b.WriteString("}")
			a = b.String()
		}
		out[i] = a
	}
	return out
}
