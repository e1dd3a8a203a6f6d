package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// byPerson reports whether a request comes from the person's own tools
// (the CLI, the app) rather than an agent.
func byPerson(c Client) bool { return c.Transport == "cli" || c.Transport == "app" }

// Grant widens a component's policy. A person's own grant (from the CLI or
// the app, which confirm it themselves) is applied; an agent's grant needs
// a person's approval through the Prompter — or, headless, is refused
// unless AllowAgentGrants is set.
//
// # Errors
//
// ErrNoComponent, ErrDenied (the person said no), ErrAgentGrantRefused
// (headless), or an error naming a malformed permission.
func (h *Host) Grant(ctx context.Context, id string, p Permission, by Client) error {
	l, err := h.ready(ctx, id)
	if err != nil {
		return err
	}
	desc, edit, err := grantEdit(p)
	if err != nil {
		return err
	}
	if !byPerson(by) {
		ok, err := h.approve(ctx, AccessRequest{Component: id, Client: by, Access: p.access(),
			Why: fmt.Sprintf("%s asks to always allow %s for %s.", by, desc, id)})
		switch {
		case errors.Is(err, ErrNoOneToAsk):
			if !h.opts.AllowAgentGrants {
				return fmt.Errorf("grant %s to %s: %w; a person can grant it with `tapedeck permission grant %s`, or start the server with --allow-agent-grants",
					desc, id, ErrAgentGrantRefused, p.cliArgs(id))
			}
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("grant %s to %s: %w", desc, id, ErrDenied)
		}
	}
	if err := l.gate.Edit("granted "+desc, edit); err != nil {
		return fmt.Errorf("grant %s to %s: %w", desc, id, err)
	}
	h.renewPool(l)
	return nil
}

// Revoke narrows a component's policy. Anyone may narrow it.
func (h *Host) Revoke(ctx context.Context, id string, p Permission, by Client) error {
	l, err := h.ready(ctx, id)
	if err != nil {
		return err
	}
	var desc string
	var removed bool
	edit := func(pol *policy.Policy) error {
		var err error
		switch p.Kind {
		case PermissionStorage:
			desc = "storage " + p.URI
			removed, err = pol.RemoveStorage(policy.AllowList, p.URI, modes(p.Access)...)
		case PermissionNetwork:
			desc = "network " + p.Host
			removed, err = pol.RemoveNetwork(policy.AllowList, p.Host)
		case PermissionEnvironment:
			desc = "environment variable " + p.Key
			removed, err = pol.RemoveEnvironment(policy.AllowList, p.Key)
		default:
			return fmt.Errorf("cannot revoke a %q permission (storage, network or environment-variable)", p.Kind)
		}
		if err == nil && !removed {
			err = fmt.Errorf("the policy of %s does not grant %s", id, desc)
		}
		return err
	}
	if err := l.gate.Edit("revoked", edit); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	h.renewPool(l)
	return nil
}

// Reset removes every permission of a component.
func (h *Host) Reset(ctx context.Context, id string, by Client) error {
	l, err := h.ready(ctx, id)
	if err != nil {
		return err
	}
	if err := l.gate.Edit("reset", func(p *policy.Policy) error { return p.Reset() }); err != nil {
		return err
	}
	h.renewPool(l)
	return nil
}

// ready returns a loaded component once it has compiled.
func (h *Host) ready(ctx context.Context, id string) (*loaded, error) {
	l, err := h.get(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-l.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if l.err != nil {
		return nil, fmt.Errorf("%s failed to load: %w", id, l.err)
	}
	return l, nil
}

// renewPool replaces a component's instance pool after its policy changed:
// an instance's environment and memory limit are fixed when it starts, so
// instances made under the old policy must not serve later calls.
func (h *Host) renewPool(l *loaded) {
	old := l.pool.Swap(l.comp.NewPool(withComponent(h.closeCtx, l.id), h.instantiateOptions(l), h.opts.PoolSize))
	if old != nil {
		old.Close()
	}
}

func modes(access []string) []policy.AccessMode {
	out := make([]policy.AccessMode, len(access))
	for i, a := range access {
		out[i] = policy.AccessMode(a)
	}
	return out
}

// grantEdit returns a description of p and the policy edit that grants it.
func grantEdit(p Permission) (string, func(*policy.Policy) error, error) {
	switch p.Kind {
	case PermissionStorage:
		if p.URI == "" {
			return "", nil, errors.New("a storage permission needs a uri such as fs:///home/me/project/**")
		}
		access := p.Access
		if len(access) == 0 {
			access = []string{"read"}
		}
		desc := fmt.Sprintf("%s access to %s", strings.Join(access, "+"), p.URI)
		return desc, func(pol *policy.Policy) error { return pol.AddStorage(policy.AllowList, p.URI, modes(access)...) }, nil
	case PermissionNetwork:
		if p.Host == "" {
			return "", nil, errors.New("a network permission needs a host such as api.example.com")
		}
		return "connections to " + p.Host, func(pol *policy.Policy) error { return pol.AddNetwork(policy.AllowList, p.Host) }, nil
	case PermissionEnvironment:
		if p.Key == "" {
			return "", nil, errors.New("an environment-variable permission needs a key such as API_KEY")
		}
		return "the environment variable " + p.Key, func(pol *policy.Policy) error { return pol.AddEnvironment(policy.AllowList, p.Key) }, nil
	case PermissionMemory:
		if p.Memory == "" {
			return "", nil, errors.New("a memory permission needs a limit such as 512Mi")
		}
		return "a memory limit of " + p.Memory, func(pol *policy.Policy) error { return pol.SetMemoryLimit(p.Memory) }, nil
	}
	return "", nil, fmt.Errorf("unknown permission kind %q (storage, network, environment-variable or memory)", p.Kind)
}

// access returns the access a permission stands for, for the dialog.
func (p Permission) access() policy.Access {
	switch p.Kind {
	case PermissionStorage:
		path := strings.TrimSuffix(strings.TrimPrefix(p.URI, "fs://"), "/**")
		write := false
		for _, a := range p.Access {
			write = write || a == "write"
		}
		return policy.Storage{Path: path, Write: write}
	case PermissionNetwork:
		return policy.Network{Scheme: "https", Host: p.Host}
	case PermissionEnvironment:
		return policy.Env{Key: p.Key}
	}
	return nil
}

// cliArgs spells the permission as `tapedeck permission grant` takes it.
func (p Permission) cliArgs(id string) string {
	switch p.Kind {
	case PermissionStorage:
		return fmt.Sprintf("storage %s %s --access %s", id, p.URI, strings.Join(p.Access, ","))
	case PermissionNetwork:
		return fmt.Sprintf("network %s %s", id, p.Host)
	case PermissionEnvironment:
		return fmt.Sprintf("environment-variable %s %s", id, p.Key)
	case PermissionMemory:
		return fmt.Sprintf("memory %s %s", id, p.Memory)
	}
	return string(p.Kind)
}
