package sandbox

import (
	"context"
	"fmt"
	"maps"

	"tapedeck.dev/tapedeck/sandbox/store"
)

// Settings returns a component's Tapedeck settings (enabled, call timeout,
// memory limit, values for allowed variables) as the Host applies them.
func (h *Host) Settings(id string) (store.Settings, error) {
	l, err := h.get(id)
	if err != nil {
		return store.Settings{}, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	s := l.settings
	s.Env = maps.Clone(s.Env)
	return s, nil
}

// SetEnabled enables or disables a component. A disabled component stays
// installed, with its policy and secrets, but offers no tools.
func (h *Host) SetEnabled(ctx context.Context, id string, enabled bool, by Client) error {
	return h.updateSettings(ctx, id, by, func(s *store.Settings) { s.Disabled = !enabled })
}

// SetSettings replaces the settings a person may change — Disabled,
// CallTimeout, MemoryLimit and Env — and keeps the rest (source, digests,
// a pending policy), which belong to the Host.
//
// # Errors
//
// ErrNoComponent, a settings value that cannot be right (a negative
// timeout, a bad variable name), or an error writing the settings file.
func (h *Host) SetSettings(ctx context.Context, id string, s store.Settings, by Client) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("settings of %s: %w", id, err)
	}
	return h.updateSettings(ctx, id, by, func(cur *store.Settings) {
		cur.Disabled, cur.CallTimeout, cur.MemoryLimit = s.Disabled, s.CallTimeout, s.MemoryLimit
		cur.Env = maps.Clone(s.Env)
	})
}

// updateSettings writes a change of settings to the store and then makes
// it visible. A loaded component's fields never change once it is ready
// (Call reads them without the lock), so the change installs a new loaded
// sharing the old one's code, gate and tools, as a reload would; calls
// already running finish under the old settings.
func (h *Host) updateSettings(ctx context.Context, id string, by Client, change func(*store.Settings)) error {
	lock := h.loadLock(id)
	lock.Lock()
	defer lock.Unlock()
	old, err := h.ready(ctx, id)
	if err != nil {
		return err
	}
	h.mu.RLock()
	settings := old.settings
	h.mu.RUnlock()
	settings.Env = maps.Clone(settings.Env)
	change(&settings)
	if err := h.store.SetSettings(id, settings); err != nil {
		return fmt.Errorf("saving the settings of %s: %w", id, err)
	}
	l := &loaded{id: old.id, source: old.source, digest: old.digest, size: old.size, settings: settings,
		gate: old.gate, at: old.at, ready: old.ready, comp: old.comp, funcs: old.funcs, tools: old.tools, err: old.err}
	l.pool.Store(old.pool.Load())
	h.mu.Lock()
	if h.comps[id] != old {
		// Unloaded while we waited for it: nothing to show the change on.
		h.mu.Unlock()
		return fmt.Errorf("%w %q (it was unloaded meanwhile)", ErrNoComponent, id)
	}
	h.comps[id] = l
	h.rebuildToolsLocked()
	h.mu.Unlock()
	// The memory limit is fixed when an instance starts, so instances made
	// under the old settings must not serve later calls.
	h.renewPool(l)
	detail := "settings changed"
	if old.settings.Disabled != settings.Disabled {
		detail = map[bool]string{true: "disabled", false: "enabled"}[settings.Disabled]
	}
	h.emit(Event{Kind: EventPolicyChanged, Component: id, Client: &by, Detail: detail})
	return nil
}

// AwaitCompiled waits until component id has finished compiling (the Host
// compiles stored components in the background) and returns its load
// error, if it failed. A short-lived owner, such as one CLI command, calls
// it before it uses or closes the Host.
func (h *Host) AwaitCompiled(ctx context.Context, id string) error {
	_, err := h.ready(ctx, id)
	return err
}
