package mcpbridge

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox"
)

// askingRig is a real Host that asks through the MCP client
// (ElicitationPrompter with nothing to fall back on), c-files loaded as
// component "files", and a file no policy lets it read.
type askingRig struct {
	host   *sandbox.Host
	srv    *Server
	secret string // the file's path; reading it needs a person's yes
}

const secretText = "only with a yes"

func newAskingRig(t *testing.T, promptTimeout time.Duration) *askingRig {
	t.Helper()
	skipStoreUnderWine(t)
	ctx := context.Background()
	host, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), CacheDir: testcomponents.CacheDir(t),
		Prompter: ElicitationPrompter{}, PromptTimeout: promptTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close(ctx) })
	r := &askingRig{host: host, srv: New(host, Options{Version: "test"})}
	t.Cleanup(func() { r.srv.Close() })

	src := componentCopy(t, "c-files", "files")
	r.secret = filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(r.secret, []byte(secretText), 0o644); err != nil {
		t.Fatal(err)
	}
	s := connect(t, r.srv, "2025-11-25", nil)
	if res := s.call(t, "load-component", map[string]any{"path": src}); res.IsError {
		t.Fatalf("load-component: %s", text(t, res))
	}
	return r
}

// read is the read-file call of the secret.
func (r *askingRig) read() *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: "read-file", Arguments: map[string]any{"path": r.secret}}
}

// done waits until no call runs (Drain) and checks none is left parked.
func (r *askingRig) done(t *testing.T) {
	t.Helper()
	if err := r.srv.Drain(t.Context()); err != nil {
		t.Fatalf("calls still running: %v", err)
	}
	if n := r.srv.parkedCount(); n != 0 {
		t.Errorf("%d calls still parked after every call ended", n)
	}
}

// elicitAnswer is a client's elicitation handler that counts the questions
// it gets and gives them all the same response.
func elicitAnswer(asked *atomic.Int32, secret string, res *mcp.ElicitResult) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		asked.Add(1)
		if !strings.Contains(r.Params.Message, secret) || !strings.Contains(r.Params.Message, "files") {
			return nil, errors.New("the question names neither the file nor the component: " + r.Params.Message)
		}
		return res, nil
	}
}

var (
	acceptYes = &mcp.ElicitResult{Action: "accept", Content: map[string]any{"allow": true}}
	acceptNo  = &mcp.ElicitResult{Action: "accept", Content: map[string]any{"allow": false}}
	declined  = &mcp.ElicitResult{Action: "decline"}
)

// TestAskThroughClient: a real component's file read is put to the calling
// client on both protocol generations; a yes lets that one call through and
// the next call asks again, anything else denies.
func TestAskThroughClient(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			r := newAskingRig(t, 0)
			t.Run("yes", func(t *testing.T) {
				var asked atomic.Int32
				s := connect(t, r.srv, p.version, askingClient(p.version, elicitAnswer(&asked, r.secret, acceptYes)))
				for i := int32(1); i <= 2; i++ {
					res, err := s.CallTool(t.Context(), r.read())
					if err != nil {
						t.Fatal(err)
					}
					if res.IsError || !strings.Contains(text(t, res), secretText) {
						t.Fatalf("call %d: read-file = %q (isError %v), want the file's text", i, text(t, res), res.IsError)
					}
					if asked.Load() != i {
						t.Fatalf("after call %d the client was asked %d times, want %d: a yes allows once", i, asked.Load(), i)
					}
				}
				if pol := s.call(t, "get-policy", map[string]any{"component_id": "files"}); strings.Contains(text(t, pol), r.secret) {
					t.Errorf("a yes through the client went into the policy: %s", text(t, pol))
				}
				r.done(t)
			})
			for _, tt := range []struct {
				name string
				res  *mcp.ElicitResult
			}{{"acceptedNo", acceptNo}, {"declined", declined}} {
				t.Run(tt.name, func(t *testing.T) {
					var asked atomic.Int32
					s := connect(t, r.srv, p.version, askingClient(p.version, elicitAnswer(&asked, r.secret, tt.res)))
					res, err := s.CallTool(t.Context(), r.read())
					if err != nil {
						t.Fatal(err)
					}
					// c-files returns its error as the err case of a result,
					// which the Host reports with the accesses it refused.
					if got := text(t, res); strings.Contains(got, secretText) || !strings.Contains(got, "Permission denied") || !strings.Contains(got, "the person answered deny") {
						t.Errorf("read-file after %s = %q, want the denial", tt.name, got)
					}
					if asked.Load() != 1 {
						t.Errorf("the client was asked %d times, want 1", asked.Load())
					}
					r.done(t)
				})
			}
		})
	}
}

// parkOne starts a read on a 2026-07-28 client that handles input requests
// itself and returns the input-required result: the call is parked.
func parkOne(t *testing.T, r *askingRig) (*session, *mcp.CallToolResult) {
	t.Helper()
	unused := func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return nil, errors.New("the SDK must not fulfil input requests with multi round-trip disabled")
	}
	s := connect(t, r.srv, "2026-07-28", &mcp.ClientOptions{ElicitationHandler: unused, MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true}})
	res, err := s.CallTool(t.Context(), r.read())
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsInput() || res.RequestState == "" || len(res.InputRequests) != 1 {
		t.Fatalf("read-file = %+v, want one input request and a request state", res)
	}
	return s, res
}

// answerAll is a retry of params that answers every input request in res
// with answer.
func answerAll(params *mcp.CallToolParams, res *mcp.CallToolResult, state string, answer *mcp.ElicitResult) *mcp.CallToolParams {
	p := *params
	p.RequestState = state
	p.InputResponses = mcp.InputResponseMap{}
	for id := range res.InputRequests {
		p.InputResponses[id] = answer
	}
	return &p
}

// TestAskThroughClientForeignState: a retry whose RequestState is forged,
// or names a call another session started, is refused, and the call stays
// the owner's to answer.
func TestAskThroughClientForeignState(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			r := newAskingRig(t, 0)
			owner, parked := parkOne(t, r)
			var asked atomic.Int32
			thief := connect(t, r.srv, p.version, askingClient(p.version, elicitAnswer(&asked, r.secret, acceptYes)))
			forged := strings.Repeat("A", len(parked.RequestState))
			for _, state := range []string{parked.RequestState, forged} {
				res, err := thief.CallTool(t.Context(), answerAll(r.read(), parked, state, acceptYes))
				if err != nil {
					t.Fatal(err)
				}
				if !res.IsError || !strings.Contains(text(t, res), "no call of read-file is waiting") {
					t.Errorf("a retry by another session = %q (isError %v), want it refused", text(t, res), res.IsError)
				}
			}
			if asked.Load() != 0 {
				t.Errorf("the thief's client was asked %d times", asked.Load())
			}
			res, err := owner.CallTool(t.Context(), answerAll(r.read(), parked, parked.RequestState, acceptYes))
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError || !strings.Contains(text(t, res), secretText) {
				t.Errorf("the owner's retry = %q (isError %v), want the file's text", text(t, res), res.IsError)
			}
			r.done(t)
		})
	}
}

// TestAskThroughClientNoAnswer: a question no one answers is denied after
// the prompt timeout, and nothing is left parked or running.
func TestAskThroughClientNoAnswer(t *testing.T) {
	const timeout = 300 * time.Millisecond
	t.Run("stateless", func(t *testing.T) {
		r := newAskingRig(t, timeout)
		events := r.host.Subscribe(t.Context())
		owner, parked := parkOne(t, r)
		// The client never retries: the question times out, the call ends.
		for ev := range events {
			if ev.Kind == sandbox.EventDenied {
				if !strings.Contains(ev.Detail, "no answer within") {
					t.Errorf("denied for %q, want the timeout", ev.Detail)
				}
				break
			}
		}
		r.done(t)
		res, err := owner.CallTool(t.Context(), answerAll(r.read(), parked, parked.RequestState, acceptYes))
		if err != nil {
			t.Fatal(err)
		}
		if !res.IsError || strings.Contains(text(t, res), secretText) {
			t.Errorf("a retry after the timeout = %q (isError %v), want it refused", text(t, res), res.IsError)
		}
		r.done(t)
	})
	t.Run("legacy", func(t *testing.T) {
		r := newAskingRig(t, timeout)
		withdrawn := make(chan error, 1)
		never := func(ctx context.Context, _ *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			<-ctx.Done()
			withdrawn <- ctx.Err()
			return nil, ctx.Err()
		}
		s := connect(t, r.srv, "2025-11-25", askingClient("2025-11-25", never))
		res, err := s.CallTool(t.Context(), r.read())
		if err != nil {
			t.Fatal(err)
		}
		if got := text(t, res); strings.Contains(got, secretText) || !strings.Contains(got, "no answer within "+timeout.String()) {
			t.Errorf("read-file with no answer = %q, want denied for the timeout", got)
		}
		if err := wait(t, withdrawn, "the question to be withdrawn"); !errors.Is(err, context.Canceled) {
			t.Errorf("the client's question ended with %v, want it cancelled", err)
		}
		r.done(t)
	})
}

// TestAskThroughClientCancelled: a legacy client that cancels the call
// while its question is open cancels the component call.
func TestAskThroughClientCancelled(t *testing.T) {
	r := newAskingRig(t, 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	onQuestion := func(qctx context.Context, _ *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		cancel()
		<-qctx.Done()
		return nil, qctx.Err()
	}
	s := connect(t, r.srv, "2025-11-25", askingClient("2025-11-25", onQuestion))
	if res, err := s.CallTool(ctx, r.read()); err == nil {
		t.Fatalf("a cancelled call returned %+v", res)
	}
	r.done(t)
	if res := s.call(t, "list-components", map[string]any{}); res.IsError {
		t.Errorf("the session did not carry on: %s", text(t, res))
	}
}
