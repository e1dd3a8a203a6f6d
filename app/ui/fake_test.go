package ui

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"tapedeck.dev/tapedeck/sandbox"
)

// fakeBackend is an in-memory Backend that records what the views ask of it.
type fakeBackend struct {
	mu       sync.Mutex
	comps    []sandbox.ComponentInfo
	policies map[string]string
	calls    []string
	paused   bool
	events   chan sandbox.Event
	loaded   chan struct{} // closed by each Load's end, if set
}

func newFakeBackend(comps ...sandbox.ComponentInfo) *fakeBackend {
	return &fakeBackend{comps: comps, policies: map[string]string{}, events: make(chan sandbox.Event, 16)}
}

func (f *fakeBackend) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeBackend) List() []sandbox.ComponentInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.comps)
}

func (f *fakeBackend) Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error) {
	f.record("load " + uri)
	if opts.Progress != nil {
		opts.Progress(50, 100)
	}
	c := sandbox.ComponentInfo{ID: "loaded", Source: uri, State: sandbox.StateReady, Enabled: true}
	f.mu.Lock()
	f.comps = append(f.comps, c)
	f.mu.Unlock()
	return &sandbox.LoadResult{Component: c}, nil
}

func (f *fakeBackend) Unload(ctx context.Context, id string, by sandbox.Client) error {
	f.record("unload " + id + " by " + by.Transport)
	return nil
}

func (f *fakeBackend) Policy(id string) (*sandbox.PolicyInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &sandbox.PolicyInfo{ComponentID: id, YAML: f.policies[id], Path: "/data/" + id + ".policy.yaml"}, nil
}

func (f *fakeBackend) Revoke(ctx context.Context, id string, p sandbox.Permission, by sandbox.Client) error {
	f.record(fmt.Sprintf("revoke %s %s %s%s%s by %s", id, p.Kind, p.URI, p.Host, p.Key, by.Transport))
	return nil
}

func (f *fakeBackend) Reset(ctx context.Context, id string, by sandbox.Client) error {
	f.record("reset " + id)
	return nil
}

func (f *fakeBackend) Subscribe(ctx context.Context) <-chan sandbox.Event { return f.events }

func (f *fakeBackend) Pause()  { f.paused = true }
func (f *fakeBackend) Resume() { f.paused = false }

func (f *fakeBackend) Paused() bool { return f.paused }

// fakeSettings is an in-memory ComponentSettings.
type fakeSettings struct {
	mu     sync.Mutex
	limits map[string]Limits
	env    map[string]map[string]string
	calls  []string
}

func (s *fakeSettings) Settings(id string) (Limits, map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits[id], s.env[id], nil
}

func (s *fakeSettings) SetEnabled(ctx context.Context, id string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("enabled %s %v", id, on))
	return nil
}

func (s *fakeSettings) SetLimits(ctx context.Context, id string, l Limits) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("limits %s %v %d", id, l.CallTimeout, l.MemoryBytes))
	return nil
}

func (s *fakeSettings) SetEnv(ctx context.Context, id, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("env %s %s=%s", id, key, value))
	return nil
}

// fakeSecrets is an in-memory Secrets.
type fakeSecrets struct {
	mu   sync.Mutex
	vals map[string]map[string]string
}

func (s *fakeSecrets) List(c string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.vals[c] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *fakeSecrets) Set(c, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals[c] == nil {
		s.vals[c] = map[string]string{}
	}
	s.vals[c][k] = v
	return nil
}

func (s *fakeSecrets) Delete(c, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.vals[c], k)
	return nil
}
