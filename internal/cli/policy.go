package cli

import (
	"context"
	"fmt"
	"io"
)

var policyCmd = &Command{
	Name:  "policy",
	Args:  "get ID [-o table|json|yaml]",
	Short: "show a component's policy",
	Long: `get prints the policy file of a component (Wassette's policy.yaml format) and
where it lives. -o json and -o yaml wrap it with the component id and path.`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "policy", args, map[string]func(context.Context, *Env, []string) error{"get": policyGet})
	},
}

func policyGet(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "policy get", "ID [-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("policy get: want exactly one component id")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	id := pos[0]
	return withController(ctx, env, func(c controller) error {
		p, err := c.Policy(ctx, id)
		if err != nil {
			return fmt.Errorf("policy of %s: %w", id, err)
		}
		return writeData(env.Stdout, format, p, func(w io.Writer) {
			if p.YAML == "" {
				fmt.Fprintf(w, "# %s has no policy: it may use no files, hosts or environment variables\n", id)
				return
			}
			if p.Path != "" {
				fmt.Fprintf(w, "# %s\n", p.Path)
			}
			fmt.Fprint(w, p.YAML)
		})
	})
}
