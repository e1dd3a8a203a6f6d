package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

const logsArgs = "[--component ID] [--kind KIND] [--since DURATION] [-n N] [-o table|json|yaml]"

var logsCmd = &Command{
	Name:  "logs",
	Args:  logsArgs,
	Short: "show the activity log: loads, calls, questions, grants, secrets",
	Long: `Prints the newest entries of the activity log, oldest first. --kind is one of
call, ask, answer, denial, grant, revoke, load, unload, client, secret,
setting (comma-separated for several); --since takes a duration such as 1h.
Secret values never appear in the log.`,
	Run: runLogs,
}

var logKinds = []activity.Kind{activity.KindCall, activity.KindAsk, activity.KindAnswer, activity.KindDenial,
	activity.KindGrant, activity.KindRevoke, activity.KindLoad, activity.KindUnload, activity.KindClient,
	activity.KindSecret, activity.KindSetting}

func runLogs(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "logs", logsArgs)
	component := fs.String("component", "", "only entries of this component")
	kinds := fs.String("kind", "", "only entries of these kinds (comma-separated)")
	since := fs.Duration("since", 0, "only entries newer than this, e.g. 30m or 24h")
	n := fs.Int("n", 50, "at most this many entries (the newest)")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return UsageError("logs takes only flags")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	if *n <= 0 {
		return UsageError("-n %d: want a positive number", *n)
	}
	if *since < 0 {
		return UsageError("--since %s: want a positive duration", *since)
	}
	filter := activity.Filter{Component: *component}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			kind := activity.Kind(strings.TrimSpace(k))
			if !containsKind(kind) {
				return UsageError("--kind %q: want one of %s", k, kindList())
			}
			filter.Kinds = append(filter.Kinds, kind)
		}
	}
	if *since > 0 {
		filter.Since = time.Now().Add(-*since)
	}
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return err
	}
	// The log is read from its files, whether or not an owner runs: it
	// only ever appends whole lines.
	entries, err := activity.Read(dirs.Data, filter, *n)
	if err != nil {
		return fmt.Errorf("reading the activity log in %s: %w", dirs.Data, err)
	}
	if entries == nil {
		entries = []activity.Entry{}
	}
	return writeData(env.Stdout, format, entries, func(w io.Writer) {
		fmt.Fprintln(w, "TIME\tKIND\tCOMPONENT\tTOOL\tCLIENT\tRESULT\tDETAIL")
		for _, e := range entries {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Kind,
				dash(e.Component), dash(e.Tool), dash(e.Client), dash(firstLine(e.Result)), details(e.Detail))
		}
	})
}

func containsKind(k activity.Kind) bool {
	for _, known := range logKinds {
		if k == known {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(logKinds))
	for i, k := range logKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// details prints an entry's details as k=v pairs in a stable order.
func details(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + firstLine(d[k])
	}
	return strings.Join(parts, " ")
}
