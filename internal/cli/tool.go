package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"tapedeck.dev/tapedeck/sandbox"
)

var toolCmd = &Command{
	Name:  "tool",
	Args:  "list [-o table|json|yaml] | read NAME [-o table|json|yaml] | invoke NAME [--args JSON] [-o table|json]",
	Short: "list, describe and call the tools of loaded components",
	Long: `list shows every tool of every enabled component; read shows one tool's
description and input and output schemas; invoke calls a tool with a JSON
object of arguments, as an editor would, under the component's policy.
invoke exits 1 when the tool reports an error.`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "tool", args, map[string]func(context.Context, *Env, []string) error{
			"list": toolList, "read": toolRead, "invoke": toolInvoke,
		})
	},
}

func toolList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "tool list", "[-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return UsageError("tool list takes no arguments")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		tools, err := c.Tools(ctx)
		if err != nil {
			return err
		}
		if tools == nil {
			tools = []sandbox.ToolInfo{}
		}
		return writeData(env.Stdout, format, tools, func(w io.Writer) {
			fmt.Fprintln(w, "NAME\tCOMPONENT\tDESCRIPTION")
			for _, t := range tools {
				desc := firstLine(t.Description)
				if t.Unavailable != "" {
					desc = "(not callable: " + t.Unavailable + ")"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", t.Name, t.Component, desc)
			}
		})
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func toolRead(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "tool read", "NAME [-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("tool read: want exactly one tool name")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		tools, err := c.Tools(ctx)
		if err != nil {
			return err
		}
		for _, t := range tools {
			if t.Name != pos[0] {
				continue
			}
			return writeData(env.Stdout, format, t, func(w io.Writer) {
				fmt.Fprintf(w, "%s (component %s)\n", t.Name, t.Component)
				if t.Description != "" {
					fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(t.Description))
				}
				if t.Unavailable != "" {
					fmt.Fprintf(w, "\nnot callable: %s\n", t.Unavailable)
				}
				fmt.Fprintf(w, "\ninput schema:\n%s\n", indentJSON(t.InputSchema))
				if len(t.OutputSchema) > 0 {
					fmt.Fprintf(w, "\noutput schema:\n%s\n", indentJSON(t.OutputSchema))
				}
			})
		}
		return fmt.Errorf("no tool %q; `tapedeck tool list` shows the tools of enabled components", pos[0])
	})
}

func indentJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "  {}"
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "  ", "  "); err != nil {
		return "  " + string(raw)
	}
	return "  " + b.String()
}

func toolInvoke(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "tool invoke", "NAME [--args JSON] [-o table|json]")
	argsJSON := fs.String("args", "{}", "the arguments, a JSON object")
	o := fs.String("o", string(outputTable), "output format: table (the result's text) or json (the whole result)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("tool invoke: want exactly one tool name")
	}
	format := outputFormat(*o)
	if format != outputTable && format != outputJSON {
		return UsageError("-o %s: want table or json", *o)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*argsJSON), &obj); err != nil || obj == nil {
		return UsageError("--args must be a JSON object such as '{\"a\": 1}': %v", jsonProblem(err))
	}
	return withController(ctx, env, func(c controller) error {
		res, err := c.Call(ctx, pos[0], json.RawMessage(*argsJSON))
		if err != nil {
			return err
		}
		if format == outputJSON {
			if err := writeJSON(env.Stdout, res); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(env.Stdout, res.Text)
		}
		if res.IsError {
			if format == outputJSON {
				return &ExitError{Code: ExitFailure}
			}
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s reported an error (above)", pos[0])}
		}
		return nil
	})
}

func jsonProblem(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}
