package ui

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

type askResult struct {
	answer sandbox.Answer
	err    error
}

func newTestPrompter(t *testing.T) (*Prompter, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	p := NewPrompter(test.NewTempApp(t), PrompterOptions{Clock: clock, Timeout: time.Minute, KeyDelay: time.Second})
	return p, clock
}

// ask calls p.Ask in a goroutine and waits until the question is queued.
func ask(ctx context.Context, p *Prompter, req sandbox.AccessRequest) <-chan askResult {
	before := p.Pending()
	out := make(chan askResult, 1)
	go func() {
		a, err := p.Ask(ctx, req)
		out <- askResult{a, err}
	}()
	for p.Pending() == before {
		runtime.Gosched()
	}
	return out
}

// pending reports whether the Ask behind ch is still waiting.
func pending(ch <-chan askResult) bool {
	select {
	case r := <-ch:
		panic("pending: the question was already settled with " + r.answer.String())
	default:
		return true
	}
}

func networkRequest(component string) sandbox.AccessRequest {
	return sandbox.AccessRequest{ID: component, Component: component, Tool: "fetch",
		Client:             sandbox.Client{Name: "Claude Code", Transport: "socket", PID: 4121, Process: "claude"},
		Access:             policy.Network{Scheme: "https", Host: "api.example.com", Port: 443},
		AllowAlwaysOffered: true}
}

func storageRequest() sandbox.AccessRequest {
	return sandbox.AccessRequest{ID: "s", Component: "notes", Tool: "read",
		Client:             sandbox.Client{Name: "cursor", Transport: "stdio"},
		Access:             policy.Storage{Path: "/home/ana/notes/today.md"},
		Folder:             "/home/ana/notes",
		AllowAlwaysOffered: true}
}

func TestPrompterAnswers(t *testing.T) {
	tests := []struct {
		name string
		act  func(p *Prompter)
		want sandbox.Answer
	}{
		{"deny_button", func(p *Prompter) { test.Tap(p.view.deny) }, sandbox.Deny},
		{"allow_once", func(p *Prompter) { test.Tap(p.view.allowOnce) }, sandbox.AllowOnce},
		{"always_allow", func(p *Prompter) { test.Tap(p.view.allowAlways) }, sandbox.AllowAlways},
		{"always_deny", func(p *Prompter) { test.Tap(p.view.denyAlways) }, sandbox.DenyAlways},
		{"allow_folder", func(p *Prompter) { test.Tap(p.view.allowFolder) }, sandbox.AllowFolderAlways},
		{"escape_key", func(p *Prompter) {
			p.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
		}, sandbox.Deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clock := newTestPrompter(t)
			res := ask(context.Background(), p, storageRequest())
			clock.Advance(time.Second) // past the key delay
			tt.act(p)
			r := <-res
			if r.err != nil || r.answer != tt.want {
				t.Fatalf("Ask = %v, %v; want %v, nil", r.answer, r.err, tt.want)
			}
			if p.Pending() != 0 {
				t.Errorf("Pending = %d after the answer; want 0", p.Pending())
			}
		})
	}
}

func TestPrompterKeyDelayGuard(t *testing.T) {
	p, clock := newTestPrompter(t)
	res := ask(context.Background(), p, networkRequest("weather"))
	if !p.view.allowOnce.Disabled() {
		t.Error("Allow once is live the instant the question appears")
	}
	if _, _, ok := p.ButtonBounds(sandbox.AllowOnce); ok {
		t.Error("ButtonBounds offers a button to click before the key delay")
	}
	// A key or click in flight lands before the delay ends: nothing happens.
	p.press(sandbox.AllowOnce)
	p.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	clock.Advance(999 * time.Millisecond)
	p.press(sandbox.AllowOnce)
	if !pending(res) || p.Pending() != 1 {
		t.Fatal("an answer before the key delay took effect")
	}
	clock.Advance(time.Millisecond)
	if p.view.allowOnce.Disabled() {
		t.Fatal("Allow once still inert after the key delay")
	}
	if _, size, ok := p.ButtonBounds(sandbox.AllowOnce); !ok || size.IsZero() {
		t.Errorf("ButtonBounds after the key delay = %v, %v; want the button's place", size, ok)
	}
	test.Tap(p.view.allowOnce)
	if r := <-res; r.answer != sandbox.AllowOnce {
		t.Errorf("Ask = %v; want allow once", r.answer)
	}
}

// TestPrompterTypingHoldsTheGuard: someone typing into another window when
// the question takes the focus keeps its buttons inert, however long they
// type (a held key's repeats too), until the keyboard is quiet for the key
// delay.
func TestPrompterTypingHoldsTheGuard(t *testing.T) {
	p, clock := newTestPrompter(t)
	res := ask(context.Background(), p, networkRequest("weather"))
	canvas := p.win.Canvas()
	for range 5 {
		clock.Advance(900 * time.Millisecond)
		canvas.OnTypedRune()('x')
		canvas.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyTab})
	}
	clock.Advance(900 * time.Millisecond)
	canvas.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // held Escape: typing too
	clock.Advance(999 * time.Millisecond)
	p.press(sandbox.AllowOnce)
	if !pending(res) || !p.view.allowOnce.Disabled() {
		t.Fatal("the buttons armed while keys kept coming")
	}
	clock.Advance(time.Millisecond) // a quiet key delay after the last key
	if p.view.allowOnce.Disabled() {
		t.Fatal("Allow once still inert after a quiet key delay")
	}
	canvas.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if r := <-res; r.answer != sandbox.Deny {
		t.Errorf("Ask = %v; want deny from Escape once armed", r.answer)
	}
}

func TestPrompterCountdown(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // the request's own; 0 for none
		wait     time.Duration // when Deny comes
	}{
		{"own_timeout", 0, time.Minute},
		{"sooner_request_deadline", 10 * time.Second, 10 * time.Second},
		{"later_request_deadline_is_capped", 5 * time.Minute, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clock := newTestPrompter(t)
			req := networkRequest("weather")
			if tt.deadline != 0 {
				req.Deadline = clock.Now().Add(tt.deadline)
			}
			res := ask(context.Background(), p, req)
			if got, want := p.view.countdown.Text, countdownText(tt.wait); got != want {
				t.Errorf("countdown at start = %q; want %q", got, want)
			}
			clock.Advance(tt.wait - time.Second)
			if got := p.view.countdown.Text; got != "Denied automatically in 1 s" {
				t.Errorf("countdown a second before the end = %q", got)
			}
			if !pending(res) {
				t.Fatal("denied before the countdown ended")
			}
			clock.Advance(time.Second)
			r := <-res
			if r.err != nil || r.answer != sandbox.Deny {
				t.Fatalf("Ask at the end of the countdown = %v, %v; want deny, nil", r.answer, r.err)
			}
			if p.Pending() != 0 {
				t.Errorf("Pending = %d; want 0", p.Pending())
			}
		})
	}
}

func TestPrompterQueue(t *testing.T) {
	p, clock := newTestPrompter(t)
	first := ask(context.Background(), p, networkRequest("first"))
	clock.Advance(30 * time.Second) // the first question's countdown is half gone
	second := ask(context.Background(), p, networkRequest("second"))
	third := ask(context.Background(), p, networkRequest("third"))

	if got := p.view.component.Text; got != "first" {
		t.Errorf("on screen: %q; want the first question (questions queue, not stack)", got)
	}
	if got := p.view.countdown.Text; got != "Denied automatically in 30 s · 2 more questions waiting" {
		t.Errorf("footer = %q", got)
	}
	test.Tap(p.view.allowOnce)
	if r := <-first; r.answer != sandbox.AllowOnce {
		t.Fatalf("first = %v; want allow once", r.answer)
	}
	if got := p.view.component.Text; got != "second" {
		t.Errorf("after answering, on screen: %q; want second", got)
	}
	if !p.view.deny.Disabled() {
		t.Error("the next question's buttons are live at once; a click meant for the last one could answer it")
	}
	if got, want := p.view.countdown.Text, "Denied automatically in 60 s · 1 more question waiting"; got != want {
		t.Errorf("the next question's footer = %q; want a fresh countdown: %q", got, want)
	}
	clock.Advance(time.Second)
	test.Tap(p.view.deny)
	if r := <-second; r.answer != sandbox.Deny {
		t.Fatalf("second = %v; want deny", r.answer)
	}
	clock.Advance(time.Second)
	test.Tap(p.view.allowAlways)
	if r := <-third; r.answer != sandbox.AllowAlways {
		t.Fatalf("third = %v; want always allow", r.answer)
	}
	if p.Pending() != 0 {
		t.Errorf("Pending = %d; want 0", p.Pending())
	}
}

func TestPrompterCancellation(t *testing.T) {
	t.Run("shown_question_disappears", func(t *testing.T) {
		p, clock := newTestPrompter(t)
		ctx, cancel := context.WithCancel(context.Background())
		first := ask(ctx, p, networkRequest("first"))
		second := ask(context.Background(), p, networkRequest("second"))
		cancel()
		r := <-first
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled Ask returned %v, %v; want context.Canceled", r.answer, r.err)
		}
		if got := p.view.component.Text; got != "second" {
			t.Errorf("on screen after cancelling the first: %q; want second", got)
		}
		clock.Advance(time.Second)
		test.Tap(p.view.allowOnce)
		if r := <-second; r.answer != sandbox.AllowOnce {
			t.Errorf("second = %v", r.answer)
		}
	})
	t.Run("queued_question_disappears", func(t *testing.T) {
		p, _ := newTestPrompter(t)
		first := ask(context.Background(), p, networkRequest("first"))
		ctx, cancel := context.WithCancel(context.Background())
		second := ask(ctx, p, networkRequest("second"))
		cancel()
		if r := <-second; !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled Ask returned %v; want context.Canceled", r.err)
		}
		if got := p.view.countdown.Text; got != countdownText(time.Minute) {
			t.Errorf("footer after the queued question was cancelled = %q; want no queue count", got)
		}
		if p.Pending() != 1 || !pending(first) {
			t.Error("cancelling a queued question settled the one on screen")
		}
	})
}

func TestPrompterOffers(t *testing.T) {
	visible := func(b *widget.Button) bool { return b.Visible() }
	tests := []struct {
		name                                                  string
		req                                                   sandbox.AccessRequest
		allowOnce, allowAlways, denyAlways, allowFolder, show bool
	}{
		{"network_with_always", networkRequest("w"), true, true, true, false, false},
		{"storage_offers_folder", storageRequest(), true, true, true, true, false},
		{"agent_client_may_allow_once_only", func() sandbox.AccessRequest {
			r := storageRequest()
			r.AllowAlwaysOffered = false
			return r
		}(), true, false, false, false, false},
		{"bundled_policy", sandbox.AccessRequest{Component: "w", Proposal: "version: \"1.0\"\n"}, false, true, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestPrompter(t)
			ask(context.Background(), p, tt.req)
			got := []bool{visible(p.view.allowOnce), visible(p.view.allowAlways), visible(p.view.denyAlways), visible(p.view.allowFolder), p.view.proposalC.Visible()}
			want := []bool{tt.allowOnce, tt.allowAlways, tt.denyAlways, tt.allowFolder, tt.show}
			for i, name := range []string{"Allow once", "Always allow", "Always deny", "Allow folder", "policy text"} {
				if got[i] != want[i] {
					t.Errorf("%s shown = %v; want %v", name, got[i], want[i])
				}
			}
			if !visible(p.view.deny) {
				t.Error("Deny is not offered")
			}
		})
	}
}

func TestPrompterWaitingHook(t *testing.T) {
	clock := newFakeClock()
	notified := make(chan sandbox.AccessRequest, 1)
	p := NewPrompter(test.NewTempApp(t), PrompterOptions{Clock: clock, Waiting: func(r sandbox.AccessRequest) { notified <- r }})
	ask(context.Background(), p, networkRequest("weather"))
	if r := <-notified; r.Component != "weather" {
		t.Errorf("Waiting got %q; want weather", r.Component)
	}
}

func TestQuestionWindowRenders(t *testing.T) {
	long := sandbox.AccessRequest{Component: strings.Repeat("long-component-", 8), Tool: strings.Repeat("tool-", 20),
		Client:             sandbox.Client{Name: strings.Repeat("Claimed Name ", 10), Transport: "socket", PID: 4121, Process: "claude"},
		Access:             policy.Storage{Path: "/home/ana/" + strings.Repeat("deep/", 30) + "file.md", Write: true},
		Folder:             "/home/ana/" + strings.Repeat("deep/", 30),
		AllowAlwaysOffered: true}
	tests := []struct {
		name string
		req  sandbox.AccessRequest
	}{
		{"network", networkRequest("weather")},
		{"storage_with_folder", storageRequest()},
		{"long_names", long},
		{"bundled_policy", sandbox.AccessRequest{Component: "weather", Proposal: "version: \"1.0\"\npermissions:\n  network:\n    allow:\n      - host: api.open-meteo.com\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clock := newTestPrompter(t)
			ask(context.Background(), p, tt.req)
			ask(context.Background(), p, networkRequest("second"))
			clock.Advance(time.Second)
			test.AssertRendersToMarkup(t, "question/"+tt.name+".xml", p.win.Canvas())
		})
	}
}

// TestPrompterGrantRequestSaysGrant: approving an agent's grant request
// changes the policy for good, so its button does not say "once".
func TestPrompterGrantRequestSaysGrant(t *testing.T) {
	p, _ := newTestPrompter(t)
	r := networkRequest("weather")
	r.Grant = true
	ask(context.Background(), p, r)
	if got := p.view.allowOnce.Text; got != "Grant" {
		t.Fatalf("the approve button of a grant request says %q, want Grant", got)
	}
	p2, _ := newTestPrompter(t)
	ask(context.Background(), p2, networkRequest("weather"))
	if got := p2.view.allowOnce.Text; got != "Allow once" {
		t.Fatalf("the approve button of an access question says %q, want Allow once", got)
	}
}
