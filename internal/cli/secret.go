package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"tapedeck.dev/tapedeck/sandbox/activity"
)

var secretCmd = &Command{
	Name:  "secret",
	Args:  "list ID [-o table|json|yaml] | set ID KEY [VALUE|-] [--yes] | delete ID KEY",
	Short: "keep per-component secrets in the OS keychain",
	Long: `A secret is a value a component sees as the environment variable KEY, when its
policy allows KEY. Values live in the OS keychain (a 0600 file when there is
none); list shows key names, never values.

set reads the value from stdin when VALUE is - or absent (a terminal reads it
without echo), so it stays out of the shell's history. It asks for
confirmation on a terminal, or needs --yes, and is recorded in the activity
log (the key, never the value).`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "secret", args, map[string]func(context.Context, *Env, []string) error{
			"list": secretList, "set": secretSet, "delete": secretDelete,
		})
	},
}

func secretList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "secret list", "ID [-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("secret list: want exactly one component id")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		keys, err := c.SecretList(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("secrets of %s: %w", pos[0], err)
		}
		if keys == nil {
			keys = []string{}
		}
		return writeData(env.Stdout, format, map[string]any{"component_id": pos[0], "keys": keys}, func(w io.Writer) {
			for _, k := range keys {
				fmt.Fprintln(w, k)
			}
		})
	})
}

// maxSecretSize caps a value read from stdin: a secret is a token or a
// password, not a file.
const maxSecretSize = 64 << 10

func secretSet(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "secret set", "ID KEY [VALUE|-] [--yes]")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || len(pos) > 3 {
		return UsageError("secret set: want a component id, a key and optionally a value (- or nothing reads stdin)")
	}
	id, key := pos[0], pos[1]
	// Confirm before reading the value, so the question and the value's
	// prompt do not fight over the terminal.
	if err := confirm(env, *yes, fmt.Sprintf("Set the secret %s of %s (it sees it as $%s when its policy allows %s)", key, id, key, key)); err != nil {
		return err
	}
	var value string
	if len(pos) == 3 && pos[2] != "-" {
		value = pos[2]
	} else if value, err = readSecret(env, key); err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		if err := c.SecretSet(ctx, id, key, value); err != nil {
			return fmt.Errorf("setting the secret %s of %s: %w", key, id, err)
		}
		record(env, c, activity.Entry{Kind: activity.KindSecret, Component: id, Result: "ok",
			Detail: map[string]string{"set": key, "confirmed": confirmedHow(*yes)}})
		fmt.Fprintf(env.Stdout, "set the secret %s of %s\n", key, id)
		return nil
	})
}

// readSecret reads a value from stdin: without echo on a terminal, else
// the whole input less one trailing newline.
func readSecret(env *Env, key string) (string, error) {
	if env.StdinIsTerminal {
		if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprintf(env.Stderr, "value of %s (not shown): ", key)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return "", fmt.Errorf("reading the value: %w", err)
			}
			return string(b), nil
		}
	}
	b, err := io.ReadAll(io.LimitReader(env.Stdin, maxSecretSize+1))
	if err != nil {
		return "", fmt.Errorf("reading the value from stdin: %w", err)
	}
	if len(b) > maxSecretSize {
		return "", &ExitError{Code: ExitFailure, Err: fmt.Errorf("the value on stdin is over %d KiB; a secret is a token or a password", maxSecretSize>>10)}
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", UsageError("secret set: no value: give it as an argument, or on stdin")
	}
	return v, nil
}

func secretDelete(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "secret delete", "ID KEY")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return UsageError("secret delete: want a component id and a key")
	}
	id, key := pos[0], pos[1]
	return withController(ctx, env, func(c controller) error {
		if err := c.SecretDelete(ctx, id, key); err != nil {
			return fmt.Errorf("deleting the secret %s of %s: %w", key, id, err)
		}
		record(env, c, activity.Entry{Kind: activity.KindSecret, Component: id, Result: "ok", Detail: map[string]string{"deleted": key}})
		fmt.Fprintf(env.Stdout, "deleted the secret %s of %s\n", key, id)
		return nil
	})
}
