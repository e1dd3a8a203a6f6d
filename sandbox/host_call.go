package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component"
)

// ErrNoTool reports a call of a tool no loaded component offers.
var ErrNoTool = errors.New("no such tool")

// Call calls a tool. A tool failure — a trap, a timeout, a memory limit, a
// refused access, arguments that do not fit — is a CallResult with IsError
// set and Text saying what happened and what to do; the error return is for
// calls that could not be made at all (no such tool, ctx cancelled before
// the call started).
func (h *Host) Call(ctx context.Context, req CallRequest) (*CallResult, error) {
	h.mu.RLock()
	ref, ok := h.tools[req.Tool]
	resumed := h.resumed
	h.mu.RUnlock()
	if !ok {
		return nil, h.noTool(req.Tool)
	}
	l := ref.comp
	if l.settings.Disabled {
		return errorResult(fmt.Sprintf("%s is disabled; enable it with `tapedeck component enable %s` or in the Tapedeck tray", l.id, l.id), 0), nil
	}
	select {
	case <-resumed:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start := time.Now()
	h.emit(Event{Kind: EventCallStarted, Component: l.id, Tool: req.Tool, Client: &req.Client})
	res := h.call(ctx, l, ref.fn, req)
	res.Duration = time.Since(start)
	detail := ""
	if res.IsError {
		detail = res.Text
	}
	h.emit(Event{Kind: EventCallFinished, Component: l.id, Tool: req.Tool, Client: &req.Client,
		Duration: res.Duration, IsError: res.IsError, Detail: detail})
	return res, nil
}

func (h *Host) noTool(name string) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, l := range h.comps {
		for _, t := range l.tools {
			if t.Name == name {
				select {
				case <-l.ready:
					if l.err != nil {
						return fmt.Errorf("%w %q: its component %s failed to load: %v", ErrNoTool, name, l.id, l.err)
					}
				default:
					return fmt.Errorf("%w %q yet: its component %s is still compiling; try again in a moment", ErrNoTool, name, l.id)
				}
			}
		}
	}
	return fmt.Errorf("%w %q (see the tools/list result or `tapedeck tool list`)", ErrNoTool, name)
}

func (h *Host) call(ctx context.Context, l *loaded, fn *component.Func, req CallRequest) *CallResult {
	limits := h.limits(l)
	timeout := limits.Timeout
	cg := l.gate.ForCall(req.Tool, req.Client)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cctx = withComponent(cctx, l.id)
	cctx = access.WithChecker(cctx, cg)
	pool := l.pool.Load()
	inst, err := pool.Get(cctx)
	if err != nil {
		return errorResult(fmt.Sprintf("%s could not start: %v", l.id, err), 0)
	}
	defer pool.Retire(inst) // closed off the reply's path
	args := req.Args
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	out, err := inst.CallJSON(cctx, fn, args)
	output := h.wasi.Output(inst)
	res := &CallResult{Stdout: string(output.Stdout), Stderr: string(output.Stderr), Denied: denialLines(cg.Denials())}
	if err != nil {
		res.IsError = true
		res.Text = explain(err, limits, h.opts.TimeoutHint, cg.Denials())
		return res
	}
	res.Structured, res.Text = out.Structured, out.Text
	if err := inst.MemoryLimitReached(); err != nil {
		// The guest coped with less memory than it asked for: say why.
		res.Text += "\n\nNote: " + err.Error()
		res.Notes = append(res.Notes, err.Error())
	}
	if denials := cg.Denials(); len(denials) > 0 && looksLikeFailure(out.Structured) {
		// The tool reported a failure of its own (a WIT err); say what was
		// refused, since that is likely why.
		res.Text += "\n\n" + denialText(denials)
	}
	return res
}

// explain turns a failed call into words a person or an agent can act on;
// timeoutHint is Options.TimeoutHint.
func explain(err error, limits Limits, timeoutHint string, denials []*access.DeniedError) string {
	var b strings.Builder
	var ae *component.ArgumentError
	var le *component.LimitError
	switch {
	case errors.As(err, &ae):
		fmt.Fprintf(&b, "bad arguments: %v", ae)
	case errors.Is(err, context.DeadlineExceeded):
		if timeoutHint == "" {
			timeoutHint = "raise it in the component's settings (the Tapedeck tray, or its call_timeout in <id>.tapedeck.json) if it needs longer"
		}
		b.WriteString(limits.TimeoutMessage(timeoutHint))
	case errors.Is(err, context.Canceled):
		b.WriteString("the call was cancelled")
	case errors.As(err, &le):
		b.WriteString(le.Error())
	case access.IsDenied(err):
		b.WriteString(err.Error())
	default:
		fmt.Fprintf(&b, "the tool failed: %v", err)
	}
	if len(denials) > 0 && !access.IsDenied(err) {
		b.WriteString("\n\n" + denialText(denials))
	}
	return b.String()
}

func denialText(denials []*access.DeniedError) string {
	return "Tapedeck refused these accesses during the call:\n- " + strings.Join(denialLines(denials), "\n- ")
}

// denialLines are the denials' messages, in order, each once.
func denialLines(denials []*access.DeniedError) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range denials {
		if s := d.Error(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// looksLikeFailure reports whether a structured result is a WIT result's
// err case: {"result":{"err":…}}.
func looksLikeFailure(structured json.RawMessage) bool {
	var v struct {
		Result map[string]json.RawMessage `json:"result"`
	}
	if json.Unmarshal(structured, &v) != nil {
		return false
	}
	_, isErr := v.Result["err"]
	return isErr && len(v.Result) == 1
}

func errorResult(text string, d time.Duration) *CallResult {
	return &CallResult{Text: text, IsError: true, Duration: d}
}
