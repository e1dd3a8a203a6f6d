package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"

	"tapedeck.dev/tapedeck/sandbox/activity"
)

// outputFormat is the -o flag of verbs whose output is data.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
	outputYAML  outputFormat = "yaml"
)

// outputFlag adds -o to fs; check the value with parseOutput after parsing.
func outputFlag(fs *flag.FlagSet) *string {
	return fs.String("o", string(outputTable), "output format: table, json or yaml")
}

func parseOutput(s string) (outputFormat, error) {
	switch f := outputFormat(s); f {
	case outputTable, outputJSON, outputYAML:
		return f, nil
	}
	return "", UsageError("-o %s: want table, json or yaml", s)
}

// writeData prints v as JSON or YAML, or calls table for the table form.
func writeData(w io.Writer, f outputFormat, v any, table func(w io.Writer)) error {
	switch f {
	case outputJSON:
		return writeJSON(w, v)
	case outputYAML:
		// Through JSON, so YAML shows the same field names as JSON does.
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding the output: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var generic any
		if err := dec.Decode(&generic); err != nil {
			return fmt.Errorf("encoding the output: %w", err)
		}
		generic = exactNumbers(generic)
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(generic); err != nil {
			return fmt.Errorf("encoding the output: %w", err)
		}
		return enc.Close()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// exactNumbers replaces JSON numbers with integers where they are whole,
// so YAML prints 4294967295 rather than 4.294967295e+09.
func exactNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case map[string]any:
		for k, e := range v {
			v[k] = exactNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = exactNumbers(e)
		}
	}
	return v
}

// errNotConfirmed ends a verb whose confirmation the person refused.
var errNotConfirmed = &ExitError{Code: ExitFailure, Err: errors.New("not confirmed; nothing was changed")}

// confirm asks the person at the terminal to confirm what; yes (the --yes
// flag) confirms without asking. Off a terminal without --yes the verb
// refuses: a script must say --yes, so nothing widens by accident.
func confirm(env *Env, yes bool, what string) error {
	if yes {
		return nil
	}
	if !env.StdinIsTerminal {
		return UsageError("%s needs confirmation: add --yes (stdin is not a terminal, so nobody can be asked)", what)
	}
	fmt.Fprintf(env.Stderr, "%s? [y/N] ", what)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(env.Stderr)
		return errNotConfirmed
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errNotConfirmed
}

// withController opens the data dir's controller, runs f with it and
// closes it.
func withController(ctx context.Context, env *Env, f func(controller) error) error {
	c, err := openController(ctx, env)
	if err != nil {
		return err
	}
	err = f(c)
	if cerr := c.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing the data dir: %w", cerr)
	}
	return err
}

// subverbs dispatches a verb's first argument to its sub-verb.
func subverbs(ctx context.Context, env *Env, verb string, args []string, table map[string]func(context.Context, *Env, []string) error) error {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(args) == 0 {
		return UsageError("%s needs a sub-command: %s", verb, strings.Join(names, ", "))
	}
	f, ok := table[args[0]]
	if !ok {
		return UsageError("unknown sub-command %q of %s (want %s)", args[0], verb, strings.Join(names, ", "))
	}
	return f(ctx, env, args[1:])
}

// record appends a person's action to the activity log. The change itself
// is done by then, so a log that cannot be written is a warning, not a
// failure.
func record(env *Env, c controller, e activity.Entry) {
	if err := c.Record(e); err != nil {
		fmt.Fprintf(env.Stderr, "warning: the activity log did not record it: %v\n", err)
	}
}
