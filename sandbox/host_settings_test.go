package sandbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/store"
)

func TestHostSetEnabled(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := newHost(t, dir, sandbox.Options{})
	src := copyComponent(t, "c-tool", filepath.Join(t.TempDir(), "calc.wasm"))
	if _, err := h.Load(ctx, src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetEnabled(ctx, "calc", false, person); err != nil {
		t.Fatal(err)
	}
	if res := call(t, h, "add", `{"a":1,"b":2}`); !res.IsError {
		t.Errorf("a disabled component answered a call: %+v", res)
	}
	if n := len(h.Tools()); n != 0 {
		t.Errorf("a disabled component lists %d tools", n)
	}
	if got := h.List()[0].State; got != sandbox.StateDisabled {
		t.Errorf("state = %s, want disabled", got)
	}

	// The setting is on disk: a new Host over the same folder keeps it.
	h.Close(ctx)
	h2 := newHost(t, dir, sandbox.Options{})
	if s, err := h2.Settings("calc"); err != nil || !s.Disabled {
		t.Fatalf("after restart: settings %+v, %v; want disabled", s, err)
	}
	if err := h2.SetEnabled(ctx, "calc", true, person); err != nil {
		t.Fatal(err)
	}
	if res := call(t, h2, "add", `{"a":1,"b":2}`); res.IsError {
		t.Errorf("an enabled component failed: %s", res.Text)
	}
}

func TestHostSetSettings(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, t.TempDir(), sandbox.Options{})
	src := copyComponent(t, "c-tool", filepath.Join(t.TempDir(), "calc.wasm"))
	if _, err := h.Load(ctx, src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	want := store.Settings{CallTimeout: 5 * time.Second, MemoryLimit: 64 << 20, Env: map[string]string{"GREETING": "hi"}}
	if err := h.SetSettings(ctx, "calc", want, person); err != nil {
		t.Fatal(err)
	}
	got, err := h.Settings("calc")
	if err != nil {
		t.Fatal(err)
	}
	if got.CallTimeout != want.CallTimeout || got.MemoryLimit != want.MemoryLimit || got.Env["GREETING"] != "hi" {
		t.Errorf("settings = %+v, want %+v", got, want)
	}
	if got.Source == "" || got.GrantsDigest == "" {
		t.Errorf("the Host's own settings were lost: %+v", got)
	}
	if res := call(t, h, "add", `{"a":2,"b":3}`); res.IsError {
		t.Errorf("call after a settings change failed: %s", res.Text)
	}

	tests := []struct {
		name string
		id   string
		s    store.Settings
		want error
	}{
		{name: "unknown_component", id: "nope", s: store.Settings{}, want: sandbox.ErrNoComponent},
		{name: "negative_timeout", id: "calc", s: store.Settings{CallTimeout: -time.Second}},
		{name: "bad_variable_name", id: "calc", s: store.Settings{Env: map[string]string{"1X": "v"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.SetSettings(ctx, tt.id, tt.s, person)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
		})
	}
	if got2, _ := h.Settings("calc"); got2.CallTimeout != want.CallTimeout {
		t.Errorf("a refused change changed the settings: %+v", got2)
	}
}

// TestHostSetEnabledDuringCalls: settings change while calls run, with no
// data race (run with -race) and every call either answered or refused as
// disabled.
func TestHostSetEnabledDuringCalls(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, t.TempDir(), sandbox.Options{})
	src := copyComponent(t, "c-tool", filepath.Join(t.TempDir(), "calc.wasm"))
	if _, err := h.Load(ctx, src, sandbox.LoadOptions{Client: person}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan string, 100)
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			res, err := h.Call(ctx, sandbox.CallRequest{Tool: "add", Args: []byte(`{"a":1,"b":2}`), Client: agent})
			switch {
			case err != nil:
				errs <- err.Error()
			case res.IsError && !strings.Contains(res.Text, "disabled"):
				errs <- res.Text
			}
		}
	}()
	for i := 0; i < 10; i++ {
		if err := h.SetEnabled(ctx, "calc", i%2 == 1, person); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	close(errs)
	for e := range errs {
		t.Errorf("call during settings changes: %s", e)
	}
}
