package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

var componentCmd = &Command{
	Name:  "component",
	Args:  "load URI [--trust-bundled-policy] [--yes] | unload ID | list [-o table|json|yaml] | enable ID | disable ID",
	Short: "load, unload, list, enable and disable components",
	Long: `load fetches a component from a path, file://, https:// or oci:// URI and
installs it under its id (the file or image name); loading an id again
replaces its code. A policy that arrives with the component is applied only
with --trust-bundled-policy, which asks for confirmation (or --yes).
unload removes a component and everything of it: code, policy, settings, secrets.
disable keeps it installed without offering its tools; enable undoes that.`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "component", args, map[string]func(context.Context, *Env, []string) error{
			"load": componentLoad, "unload": componentUnload, "list": componentList,
			"enable": func(ctx context.Context, env *Env, args []string) error { return componentEnable(ctx, env, args, true) },
			"disable": func(ctx context.Context, env *Env, args []string) error {
				return componentEnable(ctx, env, args, false)
			},
		})
	},
}

func componentLoad(ctx context.Context, env *Env, args []string) error {
	const synopsis = "component load URI [--trust-bundled-policy] [--yes]"
	fs := newFlagSet(env, "component load", "URI [--trust-bundled-policy] [--yes]")
	trust := fs.Bool("trust-bundled-policy", false, "apply a policy that arrives with the component (asks, unless --yes)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("%s: want exactly one URI", synopsis)
	}
	uri := pos[0]
	if *trust {
		if err := confirm(env, *yes, "Apply whatever policy comes with "+uri+" (it may grant files, hosts and variables)"); err != nil {
			return err
		}
	}
	return withController(ctx, env, func(c controller) error {
		opts := sandbox.LoadOptions{TrustBundledPolicy: *trust}
		var progress *progressLine
		if env.StdinIsTerminal {
			progress = &progressLine{w: env.Stderr, what: uri}
			opts.Progress = progress.report
		}
		res, err := c.Load(ctx, uri, opts)
		progress.done()
		if err != nil {
			return fmt.Errorf("loading %s: %w", uri, err)
		}
		if *trust {
			record(env, c, activity.Entry{Kind: activity.KindLoad, Component: res.Component.ID, Result: "ok",
				Detail: map[string]string{"source": uri, "trust_bundled_policy": "confirmed"}})
		}
		verb := "loaded"
		if res.Reloaded {
			verb = "reloaded"
		}
		names := make([]string, len(res.Component.Tools))
		for i, t := range res.Component.Tools {
			names[i] = t.Name
		}
		fmt.Fprintf(env.Stdout, "%s %s: tools %s\n", verb, res.Component.ID, strings.Join(names, ", "))
		for _, n := range res.Notes {
			fmt.Fprintf(env.Stdout, "note: %s\n", n)
		}
		return nil
	})
}

// progressLine shows a load's progress on one terminal line.
type progressLine struct {
	w     io.Writer
	what  string
	mu    sync.Mutex
	shown bool
}

func (p *progressLine) report(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown = true
	if total > 0 {
		fmt.Fprintf(p.w, "\rloading %s: %d%% (%d of %d bytes)", p.what, done*100/total, done, total)
		return
	}
	fmt.Fprintf(p.w, "\rloading %s: %d bytes", p.what, done)
}

// done ends the progress line, if one was shown; a nil p does nothing.
func (p *progressLine) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintln(p.w)
	}
}

func componentUnload(ctx context.Context, env *Env, args []string) error {
	id, err := oneID(env, "component unload", args)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		if err := c.Unload(ctx, id); err != nil {
			return fmt.Errorf("unloading %s: %w", id, err)
		}
		fmt.Fprintf(env.Stdout, "unloaded %s\n", id)
		return nil
	})
}

func componentEnable(ctx context.Context, env *Env, args []string, enabled bool) error {
	word := map[bool]string{true: "enable", false: "disable"}[enabled]
	id, err := oneID(env, "component "+word, args)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		if err := c.SetEnabled(ctx, id, enabled); err != nil {
			return fmt.Errorf("%s %s: %w", word, id, err)
		}
		record(env, c, activity.Entry{Kind: activity.KindSetting, Component: id, Result: "ok",
			Detail: map[string]string{"setting": "enabled", "value": fmt.Sprint(enabled)}})
		fmt.Fprintf(env.Stdout, "%sd %s\n", word, id)
		return nil
	})
}

// oneID parses a sub-verb that takes exactly one component id and no flags.
func oneID(env *Env, name string, args []string) (string, error) {
	fs := newFlagSet(env, name, "ID")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", UsageError("%s: want exactly one component id", name)
	}
	return pos[0], nil
}

func componentList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "component list", "[-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return UsageError("component list takes no arguments")
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		comps, err := c.List(ctx)
		if err != nil {
			return err
		}
		return writeData(env.Stdout, format, comps, func(w io.Writer) {
			fmt.Fprintln(w, "ID\tSTATE\tTOOLS\tSOURCE")
			for _, ci := range comps {
				names := make([]string, len(ci.Tools))
				for i, t := range ci.Tools {
					names[i] = t.Name
				}
				state := string(ci.State)
				if ci.Error != "" {
					state += ": " + ci.Error
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ci.ID, state, strings.Join(names, ","), ci.Source)
			}
		})
	})
}
