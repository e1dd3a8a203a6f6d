package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"tapedeck.dev/tapedeck/sandbox"
)

// terminalPrompter asks the person at the terminal about each access the
// policy leaves open, one question at a time.
//
// One goroutine reads stdin line by line for the prompter's whole life, so
// a question that ends (the call was cancelled, the question timed out)
// does not leave a read behind that would swallow the next answer.
type terminalPrompter struct {
	out   io.Writer
	lines <-chan string // closed at the end of stdin

	mu sync.Mutex // one question on the terminal at a time
}

func newTerminalPrompter(in io.Reader, out io.Writer) *terminalPrompter {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return &terminalPrompter{out: out, lines: lines}
}

// Ask implements sandbox.Prompter: y allows once, a allows always (written
// into the policy file), n denies, N denies always. The end of stdin is a
// deny; ctx ending (the call cancelled, the question timed out) returns
// ctx's error, which the gate turns into a deny.
func (p *terminalPrompter) Ask(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "\n%s asks to use %s", req.Component, req.Access)
	if req.Tool != "" {
		fmt.Fprintf(p.out, " (tool %s)", req.Tool)
	}
	fmt.Fprintln(p.out)
	if req.Why != "" {
		fmt.Fprintf(p.out, "  %s\n", req.Why)
	}
	choices := "[y] allow once  [a] allow always (saved in the policy)  [n] deny  [N] always deny"
	if !req.AllowAlwaysOffered {
		choices = "[y] allow once  [n] deny"
	}
	for {
		fmt.Fprintf(p.out, "%s? ", choices)
		select {
		case <-ctx.Done():
			fmt.Fprintln(p.out, "\n(no answer in time: denied)")
			return sandbox.Deny, ctx.Err()
		case line, ok := <-p.lines:
			if !ok {
				fmt.Fprintln(p.out, "\n(end of input: denied)")
				return sandbox.Deny, nil
			}
			if ans, ok := parseAnswer(line, req.AllowAlwaysOffered); ok {
				return ans, nil
			}
			fmt.Fprintf(p.out, "%q is not one of the answers.\n", strings.TrimSpace(line))
		}
	}
}

// parseAnswer reads one typed answer. Case matters for n and N only.
func parseAnswer(line string, alwaysOffered bool) (sandbox.Answer, bool) {
	switch strings.TrimSpace(line) {
	case "y", "Y", "yes":
		return sandbox.AllowOnce, true
	case "a", "A", "always":
		if alwaysOffered {
			return sandbox.AllowAlways, true
		}
	case "n", "no":
		return sandbox.Deny, true
	case "N", "never":
		if alwaysOffered {
			return sandbox.DenyAlways, true
		}
	}
	return sandbox.Deny, false
}

// prompterFor returns the Prompter --prompt names: nil for deny (no one is
// asked, so what the policy leaves open is denied), one that allows once
// for allow, and the terminal for ask.
func prompterFor(mode string, env *Env) (sandbox.Prompter, error) {
	switch mode {
	case "deny":
		return nil, nil
	case "allow":
		return sandbox.PrompterFunc(func(context.Context, sandbox.AccessRequest) (sandbox.Answer, error) {
			return sandbox.AllowOnce, nil
		}), nil
	case "ask":
		if !env.StdinIsTerminal {
			return nil, UsageError("--prompt ask needs a terminal on stdin to ask on; use --prompt deny or --prompt allow in scripts")
		}
		return newTerminalPrompter(env.Stdin, env.Stderr), nil
	}
	return nil, UsageError("--prompt is deny, allow or ask, not %q", mode)
}
