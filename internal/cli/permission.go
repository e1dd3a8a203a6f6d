package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

const permissionArgs = `grant storage ID URI --access read[,write] [--yes]
     | grant network ID HOST [--yes] | grant environment-variable ID KEY [--yes] | grant memory ID SIZE [--yes]
     | revoke storage ID URI | revoke network ID HOST | revoke environment-variable ID KEY | reset ID`

var permissionCmd = &Command{
	Name:  "permission",
	Args:  permissionArgs,
	Short: "grant, revoke and reset what a component may use",
	Long: `grant widens a component's policy: storage (a path or fs:// URI, with --access
read, write or read,write), network (a host), environment-variable (a key) or
memory (a limit such as 512Mi). It asks for confirmation on a terminal, or
needs --yes, and is recorded in the activity log. revoke removes one grant;
reset removes all of them.`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "permission", args, map[string]func(context.Context, *Env, []string) error{
			"grant": permissionGrant, "revoke": permissionRevoke, "reset": permissionReset,
		})
	},
}

// permissionKinds maps the kind words to what follows the id.
var permissionKinds = map[string]string{
	"storage":              "URI",
	"network":              "HOST",
	"environment-variable": "KEY",
	"memory":               "SIZE",
}

// parsePermission reads `KIND ID VALUE` and the flags of grant and revoke.
func parsePermission(env *Env, verb string, args []string, grant bool) (id string, p sandbox.Permission, yes bool, err error) {
	if len(args) == 0 {
		return "", p, false, UsageError("permission %s needs a kind: storage, network, environment-variable%s", verb, map[bool]string{true: " or memory", false: ""}[grant])
	}
	kind := args[0]
	what, ok := permissionKinds[kind]
	if !ok || (!grant && kind == "memory") {
		return "", p, false, UsageError("permission %s: unknown kind %q (storage, network, environment-variable%s)", verb, kind, map[bool]string{true: " or memory", false: ""}[grant])
	}
	name := "permission " + verb + " " + kind
	fs := newFlagSet(env, name, "ID "+what)
	access := fs.String("access", "", "storage: read, write or read,write")
	yesFlag := fs.Bool("yes", false, "do not ask for confirmation")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return "", p, false, err
	}
	if len(pos) != 2 {
		return "", p, false, UsageError("%s: want a component id and a %s", name, what)
	}
	id, value := pos[0], pos[1]
	p.Kind = sandbox.PermissionKind(kind)
	switch p.Kind {
	case sandbox.PermissionStorage:
		if p.URI, err = storageURI(value); err != nil {
			return "", p, false, UsageError("%s: %v", name, err)
		}
		if *access == "" && grant {
			return "", p, false, UsageError("%s: say what access with --access read, write or read,write", name)
		}
		if *access != "" {
			for _, a := range strings.Split(*access, ",") {
				if a != "read" && a != "write" {
					return "", p, false, UsageError("%s: --access %q: want read, write or read,write", name, *access)
				}
				p.Access = append(p.Access, a)
			}
		}
	case sandbox.PermissionNetwork:
		p.Host = value
	case sandbox.PermissionEnvironment:
		p.Key = value
	case sandbox.PermissionMemory:
		p.Memory = value
	}
	if *access != "" && p.Kind != sandbox.PermissionStorage {
		return "", p, false, UsageError("%s: --access is for storage permissions only", name)
	}
	return id, p, *yesFlag, nil
}

// storageURI accepts a path or an fs:// URI and returns the URI; a path is
// made absolute, since a policy rule is not relative to anything.
func storageURI(s string) (string, error) {
	if strings.HasPrefix(s, "fs://") {
		return s, nil
	}
	if strings.Contains(s, "://") {
		return "", fmt.Errorf("%q: give a path or an fs:// URI", s)
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return "", err
	}
	return "fs://" + filepath.ToSlash(abs), nil
}

// describe says what a permission grants, for the question and the log.
func describe(p sandbox.Permission) string {
	switch p.Kind {
	case sandbox.PermissionStorage:
		return fmt.Sprintf("%s access to %s", strings.Join(p.Access, "+"), p.URI)
	case sandbox.PermissionNetwork:
		return "connections to " + p.Host
	case sandbox.PermissionEnvironment:
		return "the environment variable " + p.Key
	case sandbox.PermissionMemory:
		return "a memory limit of " + p.Memory
	}
	return string(p.Kind)
}

func permissionGrant(ctx context.Context, env *Env, args []string) error {
	id, p, yes, err := parsePermission(env, "grant", args, true)
	if err != nil {
		return err
	}
	what := describe(p)
	if err := confirm(env, yes, fmt.Sprintf("Grant %s %s", id, what)); err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		if err := c.Grant(ctx, id, p); err != nil {
			return fmt.Errorf("granting %s to %s: %w", what, id, err)
		}
		record(env, c, activity.Entry{Kind: activity.KindGrant, Component: id, Result: "ok",
			Detail: map[string]string{"permission": string(p.Kind), "granted": what, "confirmed": confirmedHow(yes)}})
		fmt.Fprintf(env.Stdout, "granted %s %s\n", id, what)
		return nil
	})
}

// confirmedHow says, for the log, how a person confirmed a change.
func confirmedHow(yes bool) string {
	if yes {
		return "--yes"
	}
	return "at the terminal"
}

func permissionRevoke(ctx context.Context, env *Env, args []string) error {
	id, p, _, err := parsePermission(env, "revoke", args, false)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		if err := c.Revoke(ctx, id, p); err != nil {
			return fmt.Errorf("revoking %s %s from %s: %w", p.Kind, permissionValue(p), id, err)
		}
		record(env, c, activity.Entry{Kind: activity.KindRevoke, Component: id, Result: "ok",
			Detail: map[string]string{"permission": string(p.Kind), "revoked": permissionValue(p)}})
		fmt.Fprintf(env.Stdout, "revoked %s %s from %s\n", p.Kind, permissionValue(p), id)
		return nil
	})
}

func permissionValue(p sandbox.Permission) string {
	return p.URI + p.Host + p.Key + p.Memory // exactly one is set
}

func permissionReset(ctx context.Context, env *Env, args []string) error {
	id, err := oneID(env, "permission reset", args)
	if err != nil {
		return err
	}
	return withController(ctx, env, func(c controller) error {
		if err := c.Reset(ctx, id); err != nil {
			return fmt.Errorf("resetting the permissions of %s: %w", id, err)
		}
		record(env, c, activity.Entry{Kind: activity.KindRevoke, Component: id, Result: "ok", Detail: map[string]string{"revoked": "all (reset)"}})
		fmt.Fprintf(env.Stdout, "reset the permissions of %s: it may use nothing until granted again\n", id)
		return nil
	})
}
