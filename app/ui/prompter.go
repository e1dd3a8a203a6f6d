package ui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"tapedeck.dev/tapedeck/sandbox"
)

// Defaults for PrompterOptions.
const (
	DefaultQuestionTimeout = 60 * time.Second
	// DefaultKeyDelay keeps a question's buttons inert for a moment after it
	// appears, and after each key typed meanwhile, so a key or click meant
	// for another window cannot answer it.
	DefaultKeyDelay = 800 * time.Millisecond
)

// PrompterOptions configure NewPrompter; the zero value works.
type PrompterOptions struct {
	// Timeout is how long a shown question waits before it is denied; 0
	// means DefaultQuestionTimeout. A request's own Deadline, if sooner, wins.
	Timeout time.Duration
	// KeyDelay is how long the buttons stay inert after the question shows
	// or a key is typed; 0 means DefaultKeyDelay.
	KeyDelay time.Duration
	// Clock is the time source; nil means the real clock.
	Clock Clock
	// Waiting, when set, is called in its own goroutine each time a
	// question is shown, so the app can send a desktop notification when
	// none of its windows is visible.
	Waiting func(sandbox.AccessRequest)
}

// Prompter is the sandbox.Prompter of the desktop app: it shows each
// question in its own small window, one at a time — others queue behind it —
// with a countdown to deny.
type Prompter struct {
	opts PrompterOptions
	win  fyne.Window
	view *questionView

	mu    sync.Mutex
	queue []*question // queue[0] is on screen
}

var _ sandbox.Prompter = (*Prompter)(nil)

type question struct {
	req      sandbox.AccessRequest
	answer   chan sandbox.Answer // buffered: settling never blocks
	deadline time.Time
	armed    bool          // the buttons take effect
	armStop  func() bool   // cancels the timer that arms the buttons
	stops    []func() bool // the other timers to cancel when it is settled
}

// NewPrompter makes the question window (hidden until a question comes).
// Call it on the UI goroutine, e.g. before app.Run.
func NewPrompter(a fyne.App, opts PrompterOptions) *Prompter {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultQuestionTimeout
	}
	if opts.KeyDelay <= 0 {
		opts.KeyDelay = DefaultKeyDelay
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	p := &Prompter{opts: opts, win: a.NewWindow("Tapedeck asks")}
	p.view = newQuestionView(p.press)
	p.win.SetContent(p.view.content)
	p.win.Resize(fyne.NewSize(600, 440))
	p.win.SetCloseIntercept(func() { p.press(sandbox.Deny) })
	// Keys typed before the buttons arm are someone's typing meant for
	// another window: each one starts the key delay over, so the buttons
	// arm only once the keyboard has been quiet for KeyDelay (a held key's
	// repeats keep them inert too).
	p.win.Canvas().SetOnTypedRune(func(rune) { p.keyInFlight() })
	p.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		p.keyInFlight()
		if k.Name == fyne.KeyEscape {
			p.press(sandbox.Deny)
		}
	})
	return p
}

// keyInFlight starts the key delay of the question on screen over, if its
// buttons have not armed yet.
func (p *Prompter) keyInFlight() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 || p.queue[0].armed {
		return
	}
	p.scheduleArmLocked(p.queue[0])
}

// scheduleArmLocked arms q's buttons KeyDelay from now, instead of when
// they were to arm.
func (p *Prompter) scheduleArmLocked(q *question) {
	if q.armStop != nil {
		q.armStop()
	}
	q.armStop = p.opts.Clock.AfterFunc(p.opts.KeyDelay, func() { p.arm(q) })
}

// Ask shows req (after the questions before it) and waits for the person,
// the countdown (Deny), or ctx (the call was cancelled: the question
// disappears and Ask returns ctx.Err()).
func (p *Prompter) Ask(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
	q := &question{req: req, answer: make(chan sandbox.Answer, 1)}
	p.mu.Lock()
	p.queue = append(p.queue, q)
	if len(p.queue) == 1 {
		p.showLocked()
	} else {
		p.refreshQueueLocked()
	}
	p.mu.Unlock()

	select {
	case a := <-q.answer:
		return a, nil
	case <-ctx.Done():
		p.mu.Lock()
		p.settleLocked(q, nil)
		p.mu.Unlock()
		select {
		case a := <-q.answer: // answered in the same instant: the answer stands
			return a, nil
		default:
		}
		return sandbox.Deny, ctx.Err()
	}
}

// Pending is how many questions wait, the one on screen included.
func (p *Prompter) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// Window is the question window, for the app to raise.
func (p *Prompter) Window() fyne.Window { return p.win }

// showLocked puts queue[0] on screen with a fresh countdown.
func (p *Prompter) showLocked() {
	q := p.queue[0]
	now := p.opts.Clock.Now()
	q.deadline = now.Add(p.opts.Timeout)
	if !q.req.Deadline.IsZero() && q.req.Deadline.Before(q.deadline) {
		q.deadline = q.req.Deadline
	}
	q.armed = false
	p.scheduleArmLocked(q)
	p.scheduleTickLocked(q, now)
	text, left, waiting := describe(q.req), q.deadline.Sub(now), len(p.queue)-1
	fyne.Do(func() {
		p.view.show(q.req, text)
		p.view.setCountdown(left)
		p.view.setQueued(waiting)
		p.view.setArmed(false)
		p.win.Show()
		p.win.RequestFocus()
	})
	if p.opts.Waiting != nil {
		go p.opts.Waiting(q.req)
	}
}

// scheduleTickLocked wakes at the next whole second of the countdown.
func (p *Prompter) scheduleTickLocked(q *question, now time.Time) {
	left := q.deadline.Sub(now)
	next := left % time.Second
	if next <= 0 {
		next = min(time.Second, left)
	}
	if left <= 0 {
		next = 0
	}
	q.stops = append(q.stops, p.opts.Clock.AfterFunc(next, func() { p.tick(q) }))
}

func (p *Prompter) tick(q *question) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 || p.queue[0] != q {
		return
	}
	now := p.opts.Clock.Now()
	left := q.deadline.Sub(now)
	if left <= 0 {
		deny := sandbox.Deny
		p.settleLocked(q, &deny)
		return
	}
	fyne.Do(func() { p.view.setCountdown(left) })
	p.scheduleTickLocked(q, now)
}

func (p *Prompter) arm(q *question) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 || p.queue[0] != q {
		return
	}
	q.armed = true
	fyne.Do(func() { p.view.setArmed(true) })
}

// press answers the question on screen, if its buttons have armed.
func (p *Prompter) press(a sandbox.Answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 || !p.queue[0].armed {
		return
	}
	p.settleLocked(p.queue[0], &a)
}

// settleLocked takes q off the queue, answering it unless a is nil (the
// call was cancelled), and shows the next question or hides the window.
func (p *Prompter) settleLocked(q *question, a *sandbox.Answer) {
	i := slices.Index(p.queue, q)
	if i < 0 {
		return
	}
	p.queue = slices.Delete(p.queue, i, i+1)
	if q.armStop != nil {
		q.armStop()
	}
	for _, stop := range q.stops {
		stop()
	}
	if a != nil {
		q.answer <- *a
	}
	switch {
	case i == 0 && len(p.queue) > 0:
		p.showLocked()
	case i == 0:
		fyne.Do(func() { p.win.Hide() })
	default:
		p.refreshQueueLocked()
	}
}

func (p *Prompter) refreshQueueLocked() {
	waiting := len(p.queue) - 1
	fyne.Do(func() { p.view.setQueued(waiting) })
}

// countdownText reads "Denied automatically in 42 s".
func countdownText(left time.Duration) string {
	secs := int((left + time.Second - 1) / time.Second)
	return fmt.Sprintf("Denied automatically in %d s", max(secs, 0))
}

// ButtonBounds is where the button giving answer a sits in the question
// window (in the window's coordinates), once the buttons have armed; ok is
// false before that or when no question shows that button. It exists for
// UI automation: the GUI end-to-end test clicks there with xdotool. Call it
// on the UI goroutine.
func (p *Prompter) ButtonBounds(a sandbox.Answer) (pos fyne.Position, size fyne.Size, ok bool) {
	p.mu.Lock()
	armed := len(p.queue) > 0 && p.queue[0].armed
	p.mu.Unlock()
	b := map[sandbox.Answer]*widget.Button{sandbox.Deny: p.view.deny, sandbox.AllowOnce: p.view.allowOnce,
		sandbox.AllowAlways: p.view.allowAlways, sandbox.DenyAlways: p.view.denyAlways,
		sandbox.AllowFolderAlways: p.view.allowFolder}[a]
	if !armed || b == nil || !b.Visible() || b.Disabled() {
		return fyne.Position{}, fyne.Size{}, false
	}
	return fyne.CurrentApp().Driver().AbsolutePositionForObject(b), b.Size(), true
}
