package wasi

import (
	"context"
	"fmt"
)

// wasi:cli — what a command-line program expects of its process, scoped to
// one instance: the environment Config gives (empty by default), no
// arguments, no working directory, an empty stdin, stdout and stderr
// captured (see Host.Output), exit that ends the call, and no terminal.

func (h *Host) cliFuncs() map[string]map[string]hostFn {
	stdio := func(stream Stream) hostFn {
		return func(ctx context.Context, _ []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			sink := st.stdout
			if stream == Stderr {
				sink = st.stderr
			}
			s, err := h.newOutputStream(st, sink)
			if err != nil {
				return nil, err
			}
			return one(s)
		}
	}
	notATerminal := func(context.Context, []any) ([]any, error) { return one(noneValue) }
	return map[string]map[string]hostFn{
		"wasi:cli/environment": {
			"get-environment": h.getEnvironment,
			"get-arguments": func(context.Context, []any) ([]any, error) {
				return one([]any{})
			},
			"initial-cwd": func(context.Context, []any) ([]any, error) {
				return one(noneValue)
			},
		},
		"wasi:cli/exit": {
			"exit": func(_ context.Context, args []any) ([]any, error) {
				status, err := variantArg(args[0], "exit")
				if err != nil {
					return nil, err
				}
				code := uint8(0)
				if status.Case != 0 {
					code = 1
				}
				return nil, &ExitError{Code: code}
			},
			"exit-with-code": func(_ context.Context, args []any) ([]any, error) {
				code, ok := args[0].(uint8)
				if !ok {
					return nil, fmt.Errorf("wasi: exit-with-code: expected a u8, got %T (a bug in the runtime)", args[0])
				}
				return nil, &ExitError{Code: code}
			},
		},
		"wasi:cli/stdin": {
			"get-stdin": func(ctx context.Context, _ []any) ([]any, error) {
				st, err := h.state(ctx)
				if err != nil {
					return nil, err
				}
				s, err := h.newInputStream(st, emptySource{})
				if err != nil {
					return nil, err
				}
				return one(s)
			},
		},
		"wasi:cli/stdout":          {"get-stdout": stdio(Stdout)},
		"wasi:cli/stderr":          {"get-stderr": stdio(Stderr)},
		"wasi:cli/terminal-input":  {},
		"wasi:cli/terminal-output": {},
		"wasi:cli/terminal-stdin":  {"get-terminal-stdin": notATerminal},
		"wasi:cli/terminal-stdout": {"get-terminal-stdout": notATerminal},
		"wasi:cli/terminal-stderr": {"get-terminal-stderr": notATerminal},
	}
}

// getEnvironment returns Config.Environment's variables, asked once per
// instance: the environment is fixed when an instance starts.
func (h *Host) getEnvironment(ctx context.Context, _ []any) ([]any, error) {
	st, err := h.state(ctx)
	if err != nil {
		return nil, err
	}
	st.envOnce.Do(func() {
		st.env = []any{}
		if h.cfg.Environment == nil {
			return
		}
		vars, err := h.cfg.Environment(ctx)
		if err != nil {
			st.envErr = fmt.Errorf("wasi: the environment for this call could not be built: %w", err)
			return
		}
		for _, kv := range vars {
			st.env = append(st.env, []any{kv[0], kv[1]})
		}
	})
	if st.envErr != nil {
		return nil, st.envErr
	}
	return one(st.env)
}
