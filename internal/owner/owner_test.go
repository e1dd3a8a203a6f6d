package owner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/config"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

// silentPrompter never answers: a person away from the screen.
type silentPrompter struct{ asked chan struct{} }

func (p silentPrompter) Ask(ctx context.Context, _ sandbox.AccessRequest) (sandbox.Answer, error) {
	close(p.asked)
	<-ctx.Done()
	return sandbox.Deny, ctx.Err()
}

// TestOpenTakesThePromptTimeoutFromConfig: the prompt-timeout a person set
// with `tapedeck config` bounds the owner's questions (the default is 60 s,
// far past this test's own deadline).
func TestOpenTakesThePromptTimeoutFromConfig(t *testing.T) {
	data := t.TempDir()
	dirs, err := paths.Resolve(paths.Options{DataDir: data, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := paths.Ensure(dirs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirs.Config, config.FileName), []byte("prompt-timeout = \"1s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o, err := Open(ctx, Options{Dirs: dirs, SecretsFileOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close(ctx)
	if o.Settings.PromptTimeout != time.Second {
		t.Fatalf("Settings.PromptTimeout = %v, want the configured 1s", o.Settings.PromptTimeout)
	}
	p := silentPrompter{asked: make(chan struct{})}
	o.Host.SetPrompter(p)
	res, err := o.Host.Load(ctx, testcomponents.Path(t, "c-tool"), sandbox.LoadOptions{Client: sandbox.Client{Name: "test", Transport: "cli"}})
	if err != nil {
		t.Fatal(err)
	}

	// An agent's grant request is put to the person, who never answers.
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = o.Host.Grant(tctx, res.Component.ID, sandbox.Permission{Kind: sandbox.PermissionNetwork, Host: "example.com"},
		sandbox.Client{Name: "agent", Transport: "socket"})
	<-p.asked
	if !errors.Is(err, sandbox.ErrDenied) || tctx.Err() != nil {
		t.Fatalf("Grant = %v (test deadline: %v); want it denied when the configured 1s passed", err, tctx.Err())
	}
}
