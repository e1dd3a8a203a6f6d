package sandbox

import (
	"context"
	"sort"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

type componentKey struct{}

// withComponent marks ctx as belonging to component id, so host interfaces
// (the environment, the config store) know whose values to serve, even
// while a pooled instance starts before any call.
func withComponent(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, componentKey{}, id)
}

func componentFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(componentKey{}).(string)
	return id, ok
}

// value returns the value of a variable for component l: its secret, else
// the value a person set, else Tapedeck's own environment.
func (h *Host) value(l *loaded, key string) (string, bool) {
	if h.opts.Secrets != nil {
		if v, err := h.opts.Secrets.Get(l.id, key); err == nil {
			return v, true
		}
	}
	if v, ok := l.settings.Env[key]; ok {
		return v, true
	}
	v, ok := h.opts.Env[key]
	return v, ok
}

// environment serves wasi:cli/environment: exactly the keys the policy
// allows that have a value, and no other key of any environment.
func (h *Host) environment(ctx context.Context) ([][2]string, error) {
	id, ok := componentFrom(ctx)
	if !ok {
		return nil, nil
	}
	l, err := h.get(id)
	if err != nil || l.gate == nil {
		return nil, nil
	}
	pol := l.gate.Policy()
	var out [][2]string
	for _, rule := range pol.Permissions().Environment.Allow {
		if pol.Decide(policy.Env{Key: rule.Key}, h.protected).Verdict != policy.Allow {
			continue // a deny rule wins
		}
		if v, ok := h.value(l, rule.Key); ok {
			out = append(out, [2]string{rule.Key, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out, nil
}

// configStore serves wasi:config/store from the same values as the
// environment; unlike the environment, a key the policy does not name can
// be asked.
type configStore struct{ h *Host }

func (s configStore) Get(ctx context.Context, key string) (string, bool, error) {
	id, ok := componentFrom(ctx)
	if !ok {
		return "", false, nil
	}
	l, err := s.h.get(id)
	if err != nil {
		return "", false, nil
	}
	if err := access.FromContext(ctx).Check(ctx, policy.Config{Key: key}); err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		return "", false, nil
	}
	v, ok := s.h.value(l, key)
	return v, ok, nil
}

func (s configStore) GetAll(ctx context.Context) ([][2]string, error) {
	return s.h.environment(ctx)
}
