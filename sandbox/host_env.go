package sandbox

import (
	"context"
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

// envSource is component l's environment and config store: keys from its
// policy, values from its secrets, the values a person set, and Tapedeck's
// own environment.
func (h *Host) envSource(l *loaded) EnvSource {
	src := EnvSource{
		Policy:    l.gate.Policy,
		Protected: h.protected,
		Value: func(k string) (string, bool) {
			v, ok := l.settings.Env[k]
			return v, ok
		},
		Process: func(k string) (string, bool) {
			v, ok := h.opts.Env[k]
			return v, ok
		},
	}
	if h.opts.Secrets != nil {
		src.Secret = func(k string) (string, bool) {
			v, err := h.opts.Secrets.Get(l.id, k)
			return v, err == nil
		}
	}
	return src
}

// forContext returns the source of the component ctx belongs to.
func (h *Host) forContext(ctx context.Context) (EnvSource, bool) {
	id, ok := componentFrom(ctx)
	if !ok {
		return EnvSource{}, false
	}
	l, err := h.get(id)
	if err != nil || l.gate == nil {
		return EnvSource{}, false
	}
	return h.envSource(l), true
}

// environment serves wasi:cli/environment: exactly the keys the policy
// allows that have a value, and no other key of any environment.
func (h *Host) environment(ctx context.Context) ([][2]string, error) {
	src, ok := h.forContext(ctx)
	if !ok {
		return nil, nil
	}
	return src.Environment(ctx)
}

// configStore serves wasi:config/store from the same values as the
// environment; unlike the environment, a key the policy does not name can
// be asked.
type configStore struct{ h *Host }

func (s configStore) Get(ctx context.Context, key string) (string, bool, error) {
	src, ok := s.h.forContext(ctx)
	if !ok {
		return "", false, nil
	}
	return src.Get(ctx, key)
}

func (s configStore) GetAll(ctx context.Context) ([][2]string, error) {
	src, ok := s.h.forContext(ctx)
	if !ok {
		return nil, nil
	}
	return src.GetAll(ctx)
}
