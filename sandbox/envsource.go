package sandbox

import (
	"context"
	"sort"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// EnvSource serves one component's wasi:cli/environment and
// wasi:config/store: which keys it may see come from its policy, and each
// value from, in order, its secrets, a value a person set, and Tapedeck's
// own environment. No other key of any of them is ever shown.
type EnvSource struct {
	// Policy returns the component's current policy; nil or a nil result
	// means an empty one.
	Policy func() *policy.Policy
	// Protected are Tapedeck's own folders, passed to Decide.
	Protected policy.Protected
	// Secret, Value and Process look a key up in each source; a nil
	// function has nothing.
	Secret, Value, Process func(key string) (string, bool)
}

// Lookup returns key's value from the first source that has it. It does
// not consult the policy.
func (s EnvSource) Lookup(key string) (string, bool) {
	for _, src := range []func(string) (string, bool){s.Secret, s.Value, s.Process} {
		if src == nil {
			continue
		}
		if v, ok := src(key); ok {
			return v, true
		}
	}
	return "", false
}

func (s EnvSource) policy() *policy.Policy {
	if s.Policy != nil {
		if p := s.Policy(); p != nil {
			return p
		}
	}
	return policy.New()
}

// Environment returns the variables the policy allows that have a value,
// sorted by key. It is the wasi.Config.Environment of the component: the
// environment is fixed when an instance starts, so it is decided, never asked.
func (s EnvSource) Environment(context.Context) ([][2]string, error) {
	pol := s.policy()
	seen := map[string]bool{}
	var out [][2]string
	for _, rule := range pol.Permissions().Environment.Allow {
		if seen[rule.Key] {
			continue
		}
		seen[rule.Key] = true
		if pol.Decide(policy.Env{Key: rule.Key}, s.Protected).Verdict != policy.Allow {
			continue // a deny rule wins
		}
		if v, ok := s.Lookup(rule.Key); ok {
			out = append(out, [2]string{rule.Key, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out, nil
}

// Get serves wasi:config/store's get: the key is decided by the call's
// access.Checker (policy.Config), which may ask a person; a refused key
// reads as unset. A call cancelled while a person was asked ends with ctx's
// error.
func (s EnvSource) Get(ctx context.Context, key string) (string, bool, error) {
	if err := access.FromContext(ctx).Check(ctx, policy.Config{Key: key}); err != nil {
		if access.IsDenied(err) {
			return "", false, nil
		}
		return "", false, err
	}
	v, ok := s.Lookup(key)
	return v, ok, nil
}

// GetAll serves wasi:config/store's get-all: what the environment holds.
func (s EnvSource) GetAll(ctx context.Context) ([][2]string, error) {
	return s.Environment(ctx)
}
