package ui

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

// TestHostSettings: the windows' settings changes reach a real Host, each
// keeping the other settings, and are recorded as done in the app.
func TestHostSettings(t *testing.T) {
	ctx := t.Context()
	host, err := sandbox.New(ctx, sandbox.Options{Dir: filepath.Join(t.TempDir(), "components"), CacheDir: os.Getenv(testcomponents.EnvCacheDir)})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(context.Background())
	loaded, err := host.Load(ctx, testcomponents.Path(t, testcomponents.CTool), sandbox.LoadOptions{Client: sandbox.Client{Name: "test", Transport: "cli"}})
	if err != nil {
		t.Fatal(err)
	}
	id := loaded.Component.ID
	events := host.Subscribe(ctx)
	s := HostSettings(host)

	limits := Limits{CallTimeout: 3 * time.Second, MemoryBytes: 64 << 20}
	steps := []struct {
		name string
		do   func() error
	}{
		{"limits", func() error { return s.SetLimits(ctx, id, limits) }},
		{"env-set", func() error { return s.SetEnv(ctx, id, "GREETING", "hello") }},
		{"env-set-other", func() error { return s.SetEnv(ctx, id, "OTHER", "x") }},
		{"env-remove", func() error { return s.SetEnv(ctx, id, "OTHER", "") }},
		{"disable", func() error { return s.SetEnabled(ctx, id, false) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		select {
		case ev := <-events:
			if ev.Kind != sandbox.EventPolicyChanged || ev.Component != id || ev.Client == nil || *ev.Client != appClient() {
				t.Errorf("%s: the Host reported %+v, want a change of %s by the app", st.name, ev, id)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no event", st.name)
		}
	}
	gotLimits, env, err := s.Settings(id)
	if err != nil {
		t.Fatal(err)
	}
	if gotLimits != limits {
		t.Errorf("limits = %+v, want %+v (kept through the later changes)", gotLimits, limits)
	}
	if want := map[string]string{"GREETING": "hello"}; !maps.Equal(env, want) {
		t.Errorf("env = %v, want %v", env, want)
	}
	if c := host.List(); len(c) != 1 || c[0].Enabled {
		t.Errorf("components after disabling: %+v", c)
	}

	if _, _, err := s.Settings("nope"); !errors.Is(err, sandbox.ErrNoComponent) {
		t.Errorf("Settings of an unknown component: %v, want ErrNoComponent", err)
	}
	if err := s.SetEnv(ctx, "nope", "K", "v"); !errors.Is(err, sandbox.ErrNoComponent) {
		t.Errorf("SetEnv of an unknown component: %v, want ErrNoComponent", err)
	}
}
