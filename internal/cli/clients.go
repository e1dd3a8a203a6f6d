package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"tapedeck.dev/tapedeck/mcpbridge/clients"
)

var clientsCmd = &Command{
	Name:  "clients",
	Args:  "list [-o json] | connect NAME…|--all [--dry-run] [--command PATH] | disconnect NAME…|--all [--dry-run]",
	Short: "connect AI editors (Claude, VS Code, Cursor, Codex, …) to Tapedeck",
	Long: `list shows each editor Tapedeck knows: whether it is installed, connected
and up to date, where its config is and whether it needs a restart.

connect adds Tapedeck's entry ("tapedeck", running this binary with "mcp")
to each named editor's MCP config, or to every installed one with --all;
disconnect removes it. Nothing else in the files changes, a file that does
not parse is left alone, and --dry-run prints the diff instead of writing.

--command PATH sets the binary the entry runs (for packagers and tests);
by default it is this binary, which must not be in a temporary folder.

Editors: ` + strings.Join(clients.Names(), ", ") + `.
HOME and XDG_CONFIG_HOME say where the configs are.`,
	Run: runClients,
}

func runClients(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return UsageError("clients needs a sub-command: list, connect or disconnect")
	}
	switch args[0] {
	case "list":
		return clientsList(env, args[1:])
	case "connect":
		return clientsEdit(env, args[1:], true)
	case "disconnect":
		return clientsEdit(env, args[1:], false)
	}
	return UsageError("unknown sub-command %q (want list, connect or disconnect)", args[0])
}

func clientOptions(env *Env, command string) (clients.Options, error) {
	o := clients.Options{Getenv: env.getenv, DataDir: env.DataDir}
	if command != "" {
		abs, err := filepath.Abs(command)
		if err != nil {
			return o, fmt.Errorf("--command %s: %w", command, err)
		}
		o.Binary = abs
		return o, nil
	}
	bin, err := clients.Executable()
	o.Binary = bin
	return o, err
}

func clientsList(env *Env, args []string) error {
	fs := newFlagSet(env, "clients list", "[-o json] [--command PATH]")
	output := fs.String("o", "text", "output format: text or json")
	command := fs.String("command", "", "the tapedeck binary entries should run (default: this one)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return UsageError("clients list takes no arguments")
	}
	if *output != "text" && *output != "json" {
		return UsageError("-o %s: want text or json", *output)
	}
	// Without an installed binary the list still shows what is connected;
	// only "up to date" cannot be told.
	opts, binErr := clientOptions(env, *command)
	rows := clients.New(opts).StatusAll()
	if *output == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tEDITOR\tINSTALLED\tCONNECTED\tUP TO DATE\tRESTART\tCONFIG")
	for _, r := range rows {
		connected := yesNo(r.Connected)
		if r.Conflict {
			connected = "no (a stranger's entry is named tapedeck)"
		}
		upToDate := "-"
		if r.Connected {
			upToDate = yesNo(r.UpToDate)
			if binErr != nil {
				upToDate = "?"
			}
		}
		config := r.ConfigPath
		if r.Error != "" {
			config += " (" + r.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.DisplayName, yesNo(r.Installed),
			connected, upToDate, yesNo(r.NeedsRestart), config)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if binErr != nil {
		fmt.Fprintf(env.Stderr, "note: cannot tell whether entries are up to date: %v\n", binErr)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func clientsEdit(env *Env, args []string, connect bool) error {
	verb := "disconnect"
	if connect {
		verb = "connect"
	}
	fs := newFlagSet(env, "clients "+verb, "NAME…|--all [--dry-run]"+map[bool]string{true: " [--command PATH]"}[connect])
	all := fs.Bool("all", false, "every installed editor")
	dryRun := fs.Bool("dry-run", false, "print the diff instead of writing")
	command := ""
	if connect {
		fs.StringVar(&command, "command", "", "the tapedeck binary entries should run (default: this one)")
	}
	names, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *all == (len(names) > 0) {
		return UsageError("clients %s needs editor names or --all, not both", verb)
	}
	for _, n := range names {
		if _, ok := clients.Lookup(n); !ok {
			return UsageError("unknown editor %q; the editors are: %s", n, strings.Join(clients.Names(), ", "))
		}
	}
	opts, err := clientOptions(env, command)
	if err != nil && connect {
		return err
	}
	m := clients.New(opts)
	if *all {
		for _, st := range m.StatusAll() {
			if st.Installed {
				names = append(names, st.Name)
			}
		}
		if len(names) == 0 {
			fmt.Fprintln(env.Stdout, "no editors found; run 'tapedeck clients list' to see where Tapedeck looks")
			return nil
		}
	}
	failed := 0
	for _, name := range names {
		var res clients.Result
		if connect {
			res, err = m.Connect(name, *dryRun)
		} else {
			res, err = m.Disconnect(name, *dryRun)
		}
		if err != nil {
			failed++
			fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
			var syn *clients.SyntaxError
			if errors.As(err, &syn) {
				fmt.Fprintf(env.Stderr, "%s: the file was left as it is; fix it (or move it away) and try again\n", name)
			}
			continue
		}
		reportResult(env, res, verb, *dryRun)
	}
	if failed > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d editors failed", failed, len(names))}
	}
	return nil
}

func reportResult(env *Env, res clients.Result, verb string, dryRun bool) {
	if len(res.Changes) == 0 {
		state := "connected"
		if verb == "disconnect" {
			state = "not connected"
		}
		fmt.Fprintf(env.Stdout, "%s: already %s\n", res.Client, state)
		return
	}
	for _, ch := range res.Changes {
		if dryRun {
			fmt.Fprint(env.Stdout, ch.Diff())
			continue
		}
		what := verb + "ed"
		switch {
		case ch.Created:
			what += " (created the file)"
		case ch.Removed:
			what += " (removed the file, which held nothing else)"
		}
		fmt.Fprintf(env.Stdout, "%s: %s %s\n", res.Client, what, ch.Path)
	}
	if res.NeedsRestart && !dryRun {
		c, _ := clients.Lookup(res.Client)
		fmt.Fprintf(env.Stdout, "%s: restart %s to pick up the change\n", res.Client, c.DisplayName)
	}
}
