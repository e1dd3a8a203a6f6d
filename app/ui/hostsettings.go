package ui

import (
	"context"
	"maps"

	"tapedeck.dev/tapedeck/sandbox"
)

// HostSettings is the ComponentSettings of a sandbox Host: what the windows
// change there is recorded as the person's own, done in the app.
func HostSettings(h *sandbox.Host) ComponentSettings { return hostSettings{h} }

type hostSettings struct{ h *sandbox.Host }

func (s hostSettings) Settings(id string) (Limits, map[string]string, error) {
	st, err := s.h.Settings(id)
	if err != nil {
		return Limits{}, nil, err
	}
	return Limits{CallTimeout: st.CallTimeout, MemoryBytes: st.MemoryLimit}, st.Env, nil
}

func (s hostSettings) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return s.h.SetEnabled(ctx, id, enabled, appClient())
}

func (s hostSettings) SetLimits(ctx context.Context, id string, l Limits) error {
	st, err := s.h.Settings(id)
	if err != nil {
		return err
	}
	st.CallTimeout, st.MemoryLimit = l.CallTimeout, l.MemoryBytes
	return s.h.SetSettings(ctx, id, st, appClient())
}

func (s hostSettings) SetEnv(ctx context.Context, id, key, value string) error {
	st, err := s.h.Settings(id)
	if err != nil {
		return err
	}
	env := maps.Clone(st.Env)
	if env == nil {
		env = map[string]string{}
	}
	if value == "" {
		delete(env, key)
	} else {
		env[key] = value
	}
	st.Env = env
	return s.h.SetSettings(ctx, id, st, appClient())
}
