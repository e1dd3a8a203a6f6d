package mcpbridge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/sandbox"
)

// ElicitationPrompter is a sandbox.Prompter that asks the person through
// the MCP client behind the call, with a yes/no elicitation form. The Host
// uses it when no tray is there to ask.
//
// The question travels as an input request (SEP-2322) in the tool call's
// result, while the component call waits for the answer; the client answers
// by retrying the call. Clients on the 2026-07-28 protocol do that
// themselves; for older clients the go-sdk sends the question as an
// elicitation/create request and retries on their behalf. See RATIONALE.md.
//
// It asks only during a component tool call the Server serves, when the
// calling client declared the elicitation capability, and never for a
// grant an agent requested (req.Grant: that would let the agent's client
// widen the policy for good). Otherwise it passes the question to
// Fallback, or, when Fallback is nil, answers Deny with
// sandbox.ErrNoOneToAsk so the Host acts as when headless.
//
// An answer given through the agent's own client can allow once, never
// always: the agent could answer for the person. Ask therefore returns
// only AllowOnce or Deny. It is safe for concurrent use.
type ElicitationPrompter struct {
	Fallback sandbox.Prompter
}

// elicitSchema is the form: one yes/no question.
var elicitSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"allow": map[string]any{"type": "boolean", "title": "Allow this once", "description": "Yes lets it through this one time; Tapedeck will ask again next time."},
	},
	"required": []string{"allow"},
}

// Ask implements sandbox.Prompter.
func (p ElicitationPrompter) Ask(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
	call, _ := ctx.Value(callKey{}).(*parkedCall)
	// A grant an agent asks for widens the policy for good: its own client
	// may not be the one to approve it.
	if call == nil || !call.canElicit || req.Grant {
		if p.Fallback != nil {
			return p.Fallback.Ask(ctx, req)
		}
		return sandbox.Deny, sandbox.ErrNoOneToAsk
	}
	return call.ask(ctx, req)
}

// callKey carries the parkedCall a component call runs in, for the
// Prompter.
type callKey struct{}

// parkedCall is a component tool call that may outlive the request that
// started it: when it asks a question, the request is answered with the
// question and the call waits, parked under token, for the retry that
// brings the answer.
type parkedCall struct {
	token     string // the RequestState naming this call: 256 random bits
	tool      string
	owner     caller // who may retry it
	canElicit bool   // the client declared elicitation
	cancel    context.CancelFunc
	questions chan *question // Ask → the request waiting for the call
	done      chan struct{}  // closed when the call ended; result and err are set
	result    *mcp.CallToolResult
	err       error

	mu       sync.Mutex
	asked    *question // the question put to the client, until answered or given up
	attached bool      // a request is waiting for the call's next step
}

// question is one access question of a parked call.
type question struct {
	id     string // the input request's key
	req    sandbox.AccessRequest
	answer chan sandbox.Answer // buffered: the retry never waits for Ask
}

// caller is who started a call, so that no one else can answer for it.
type caller struct {
	// session is the MCP session of the call: nil over HTTP, where the SDK
	// gives each 2026-07-28 request a session of its own.
	session *mcp.ServerSession
	client  sandbox.Client
}

// callerOf returns who is behind req. Sessions Connect made (stdio, socket,
// in-memory) are the caller; over HTTP every request is a new session, so
// only the client's identity is left (the bearer token already stands for
// this user).
func callerOf(ctx context.Context, req *mcp.CallToolRequest) caller {
	c := caller{client: clientOf(ctx, req)}
	if _, ok := ctx.Value(peerKey{}).(sandbox.Client); ok {
		c.session = req.Session
	}
	return c
}

// canElicit reports whether the client behind req declared elicitation, in
// initialize or in the request's _meta (2026-07-28).
func canElicit(req *mcp.CallToolRequest) bool {
	caps := req.ClientCapabilities()
	return caps != nil && caps.Elicitation != nil
}

// ask puts req to the client through whichever request waits for the call,
// and waits for the answer until ctx ends (the Gate's prompt timeout, or
// the call's cancellation).
func (c *parkedCall) ask(ctx context.Context, req sandbox.AccessRequest) (sandbox.Answer, error) {
	id := req.ID
	if id == "" {
		id = "access"
	}
	q := &question{id: id, req: req, answer: make(chan sandbox.Answer, 1)}
	select {
	case c.questions <- q:
	case <-ctx.Done():
		return sandbox.Deny, ctx.Err()
	}
	select {
	case a := <-q.answer:
		return a, nil
	case <-ctx.Done():
		c.mu.Lock()
		if c.asked == q {
			c.asked = nil // a late retry must not answer a question no one waits for
		}
		c.mu.Unlock()
		return sandbox.Deny, ctx.Err()
	}
}

// newToken returns an unguessable RequestState.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a request state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// startCall starts the component call in its own goroutine, parked under
// a fresh token until it ends. Its context keeps ctx's values but not its
// end: a call that asks a question outlives the request that started it.
// It ends when the call returns, when a waiting request is cancelled, when
// its session ends, or when the Server closes.
func (s *Server) startCall(ctx context.Context, req *mcp.CallToolRequest, creq sandbox.CallRequest) (*parkedCall, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	pc := &parkedCall{
		token: token, tool: creq.Tool, owner: callerOf(ctx, req), canElicit: canElicit(req),
		cancel: cancel, questions: make(chan *question), done: make(chan struct{}), attached: true,
	}
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	if ex != nil {
		ex.add(pc)
	}
	s.parkMu.Lock()
	s.parked[token] = pc
	s.parkMu.Unlock()
	s.calls.Add(1)
	go func() {
		defer s.calls.Done()
		defer cancel()
		res, err := s.backend.Call(context.WithValue(cctx, callKey{}, pc), creq)
		pc.result, pc.err = toolResult(creq.Tool, res, err)
		s.parkMu.Lock()
		delete(s.parked, token)
		s.parkMu.Unlock()
		pc.mu.Lock()
		detached := !pc.attached
		pc.mu.Unlock()
		close(pc.done)
		if detached && ex != nil {
			ex.giveUp() // no one would collect the result: stop waiting for the client
		}
	}()
	return pc, nil
}

// toolResult turns the backend's answer into the tool's result.
func toolResult(name string, res *sandbox.CallResult, err error) (*mcp.CallToolResult, error) {
	if err != nil {
		return errorResult(fmt.Sprintf("calling %s: %v", name, err)), err
	}
	out := &mcp.CallToolResult{
		Content: []mcp.Content{&mcp.TextContent{Text: res.Text}},
		IsError: res.IsError,
	}
	if len(res.Structured) > 0 && !res.IsError {
		out.StructuredContent = res.Structured
	}
	return out, nil
}

// await waits for the call's next step: its result, or a question, which
// is returned as an input-required result while the call stays parked. A
// cancelled request cancels the call.
func (s *Server) await(ctx context.Context, pc *parkedCall) (*mcp.CallToolResult, error) {
	select {
	case <-pc.done:
		if pc.err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return pc.result, nil
	case q := <-pc.questions:
		pc.mu.Lock()
		pc.asked, pc.attached = q, false
		pc.mu.Unlock()
		return inputRequired(pc.token, q), nil
	case <-ctx.Done():
		pc.cancel()
		return nil, ctx.Err()
	}
}

// resume serves a retry of a parked call: it hands the answer in req to the
// waiting question and waits for the call's next step. A retry that does
// not answer the open question gets it again. A token that names no
// parked call of this tool and caller is refused without saying which.
func (s *Server) resume(ctx context.Context, name string, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	s.parkMu.Lock()
	pc := s.parked[req.Params.RequestState]
	s.parkMu.Unlock()
	if pc == nil || pc.tool != name || pc.owner != callerOf(ctx, req) {
		return errorResult(fmt.Sprintf("no call of %s is waiting for this answer (it ended, its question timed out, or another client started it); call %s again", name, name)), nil
	}
	pc.mu.Lock()
	if pc.attached {
		pc.mu.Unlock()
		return errorResult(fmt.Sprintf("this call of %s is already being answered by another request; wait for its result", name)), nil
	}
	if q := pc.asked; q != nil {
		resp, ok := req.Params.InputResponses[q.id]
		if !ok {
			pc.mu.Unlock()
			return inputRequired(pc.token, q), nil
		}
		pc.asked = nil
		q.answer <- answerOf(resp)
	}
	pc.attached = true
	pc.mu.Unlock()
	return s.await(ctx, pc)
}

// answerOf reads the client's response to the form: only an accepted
// "allow": true allows, and only once.
func answerOf(r mcp.InputResponse) sandbox.Answer {
	if res, ok := r.(*mcp.ElicitResult); ok && res.Action == "accept" {
		if allow, _ := res.Content["allow"].(bool); allow {
			return sandbox.AllowOnce
		}
	}
	return sandbox.Deny
}

// inputRequired is the result that puts q to the client.
func inputRequired(token string, q *question) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{q.id: &mcp.ElicitParams{Mode: "form", Message: elicitMessage(q.req), RequestedSchema: elicitSchema}},
		RequestState:  token,
	}
}

// cancelParked cancels the parked calls for which drop is true.
func (s *Server) cancelParked(drop func(*parkedCall) bool) {
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	for _, pc := range s.parked {
		if drop(pc) {
			pc.cancel()
		}
	}
}

// parkedCount is how many calls are parked, for tests.
func (s *Server) parkedCount() int {
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	return len(s.parked)
}

// exchangeKey carries the exchange a legacy session's tools/call runs.
type exchangeKey struct{}

// exchange is one tools/call request of a session before 2026-07-28 and
// the calls it started: they live no longer than the request does.
type exchange struct {
	// giveUp ends the request's wait for the client: a call that ended
	// while its question was out (the question timed out) has its result.
	giveUp context.CancelFunc

	mu    sync.Mutex
	calls []*parkedCall
}

func (e *exchange) add(pc *parkedCall) {
	e.mu.Lock()
	e.calls = append(e.calls, pc)
	e.mu.Unlock()
}

// ended returns the result of the request's call if it has ended.
func (e *exchange) ended() (*mcp.CallToolResult, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.calls) == 0 {
		return nil, false
	}
	select {
	case <-e.calls[len(e.calls)-1].done:
		return e.calls[len(e.calls)-1].result, true
	default:
		return nil, false
	}
}

// cancel cancels the request's calls (those that ended are unaffected).
func (e *exchange) cancel() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, pc := range e.calls {
		pc.cancel()
	}
}

// legacyRounds serves the questions of calls on sessions before 2026-07-28,
// whose clients cannot retry with answers. The go-sdk's own middleware
// (installed first, so it runs inside this one) sends the first question as
// elicitation/create and re-runs the handler once with the answer; when the
// call then asks again, this re-runs the handler with the call's state and
// no answer, which puts the open question out again for the SDK to send.
// A call that ends while its question is out (the prompt timeout passed)
// withdraws the question and answers the request with its result; when the
// request ends, however it ends, its calls are cancelled.
func (s *Server) legacyRounds(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		call, ok := req.(*mcp.CallToolRequest)
		if method != "tools/call" || !ok || !legacyExchange(call.Session) {
			return next(ctx, method, req)
		}
		rctx, giveUp := context.WithCancel(ctx)
		defer giveUp()
		ex := &exchange{giveUp: giveUp}
		defer ex.cancel()
		rctx = context.WithValue(rctx, exchangeKey{}, ex)
		res, err := next(rctx, method, req)
		var lastAsked []string
		for err == nil {
			r, ok := res.(*mcp.CallToolResult)
			if !ok || r.InputRequests == nil {
				return res, nil
			}
			asked := questionIDs(r.InputRequests)
			if slices.Equal(asked, lastAsked) {
				// The same question twice means it was never answered.
				return nil, fmt.Errorf("the client left question %v unanswered", asked)
			}
			lastAsked = asked
			p := *call.Params
			p.InputResponses, p.RequestState = nil, r.RequestState
			res, err = next(rctx, method, &mcp.CallToolRequest{Session: call.Session, Params: &p, Extra: call.Extra})
		}
		if result, ok := ex.ended(); ok && ctx.Err() == nil && result != nil {
			return result, nil
		}
		return res, err
	}
}

// legacyExchange reports whether ss's client predates multi round-trip
// requests, by the rule the go-sdk's own middleware uses: a session without
// an initialize handshake speaks 2026-07-28 or later.
func legacyExchange(ss *mcp.ServerSession) bool {
	if ss == nil {
		return false
	}
	p := ss.InitializeParams()
	return p != nil && p.ProtocolVersion < "2026-07-28"
}

// questionIDs lists m's keys in order.
func questionIDs(m mcp.InputRequestMap) []string {
	return slices.Sorted(maps.Keys(m))
}

// elicitMessage is the question as the person reads it.
func elicitMessage(req sandbox.AccessRequest) string {
	var b strings.Builder
	who := req.Component
	if req.Tool != "" {
		who += " (tool " + req.Tool + ")"
	}
	if req.Grant {
		fmt.Fprintf(&b, "An agent (%s) asks Tapedeck to let component %s use %s.", req.Client, who, req.Access)
	} else {
		fmt.Fprintf(&b, "Component %s wants to use %s.", who, req.Access)
	}
	if req.Why != "" {
		b.WriteString(" " + req.Why)
	}
	b.WriteString(" Allow it this once?")
	return b.String()
}
