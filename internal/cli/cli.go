// Package cli implements Tapedeck's command line: one file per verb, each a
// *Command in the table below. Verbs parse their flags, call the package that
// does the work, and print; none of them does that work here.
//
// Run is the whole program minus process plumbing, so tests drive it with
// their own writers, environment and arguments.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Env is what a verb may touch of the process: its streams and environment.
// Tests replace every field.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable; nil means os.Getenv.
	Getenv func(string) string
	// StdinIsTerminal reports whether Stdin is a terminal a person can answer on.
	StdinIsTerminal bool
	// DataDir is the global --data-dir; empty means $TAPEDECK_DATA_DIR or
	// the OS default (package paths decides).
	DataDir string
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// Command is one verb of the command line.
type Command struct {
	Name  string // "inspect", or "clients" for a verb with sub-verbs
	Args  string // the argument synopsis, such as "FILE.wasm [-o json]"
	Short string // one line for the command list
	Long  string // more help, shown by `tapedeck help NAME`
	// Run does the verb. args excludes the verb itself.
	Run func(ctx context.Context, env *Env, args []string) error
}

// ExitError ends the program with Code after printing Err (when not nil).
// Verbs return it for outcomes a script branches on; any other error exits 1.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit codes a script can rely on.
const (
	ExitOK      = 0
	ExitFailure = 1 // the verb ran and failed (a trap, a refused access, a bad argument value)
	ExitUsage   = 2 // the command line itself was wrong
)

// UsageError reports a malformed command line; it exits with ExitUsage.
func UsageError(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// commands is the table of verbs. Each verb's file defines its *Command.
func commands() []*Command {
	cmds := []*Command{
		versionCmd,
		clientsCmd,
		inspectCmd,
		callCmd,
		serveCmd, mcpCmd,
		componentCmd, policyCmd, permissionCmd, secretCmd, toolCmd,
		registryCmd, logsCmd, configCmd, doctorCmd,
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}

func lookup(name string) *Command {
	for _, c := range commands() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Run runs the command line args (without the program name) and returns the
// process exit code. Errors are printed to env.Stderr.
func Run(ctx context.Context, env *Env, args []string) int {
	// Global flags come before the verb.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "-help" && args[0] != "--help" {
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if flagName != "data-dir" {
			fmt.Fprintf(env.Stderr, "tapedeck: unknown global flag %s (the only one is --data-dir DIR; verb flags go after the verb)\n", args[0])
			return ExitUsage
		}
		if !hasValue {
			if len(args) < 2 {
				fmt.Fprintln(env.Stderr, "tapedeck: --data-dir needs a folder")
				return ExitUsage
			}
			value, args = args[1], args[1:]
		}
		env.DataDir = value
		args = args[1:]
	}
	if len(args) == 0 {
		printUsage(env.Stderr)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				printHelp(env.Stdout, c)
				return ExitOK
			}
		}
		printUsage(env.Stdout)
		return ExitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(env.Stderr, "tapedeck: unknown command %q; run 'tapedeck help' for the list\n", name)
		return ExitUsage
	}
	err := c.Run(ctx, env, args[1:])
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code := ExitFailure
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	}
	fmt.Fprintf(env.Stderr, "tapedeck %s: %v\n", name, err)
	if code == ExitUsage {
		fmt.Fprintf(env.Stderr, "usage: tapedeck %s %s\n", c.Name, c.Args)
	}
	return code
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Tapedeck runs MCP tools as sandboxed WebAssembly components.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: tapedeck [command] [arguments]   (no command: start the desktop app)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Short)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'tapedeck help COMMAND' for a command's arguments.")
}

func printHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "usage: tapedeck %s %s\n\n%s\n", c.Name, c.Args, c.Short)
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
	}
}

// newFlagSet returns a flag set for the verb name (with argument synopsis
// args) whose errors and help go to env.Stderr and that reports a bad flag
// as a usage error rather than exiting.
func newFlagSet(env *Env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("tapedeck "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: tapedeck %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional arguments
// (`tapedeck call x.wasm tool --args '{}'`), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &ExitError{Code: ExitUsage}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
