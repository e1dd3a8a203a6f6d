package mcpbridge

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/sandbox"
)

// ElicitationPrompter is a sandbox.Prompter that asks the person through
// the MCP client behind the call, with a yes/no elicitation form. The Host
// uses it when no tray is there to ask.
//
// It asks only when the calling client declared the elicitation
// capability on a session that may receive server requests (protocol
// versions before 2026-07-28; the stateless protocol's input requests
// cannot pause a running component call — see RATIONALE.md), and never
// for a grant an agent requested (req.Grant: that would let the agent's
// client widen the policy for good). Otherwise it passes the question to
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
	call, _ := ctx.Value(requestKey{}).(*mcp.CallToolRequest)
	// A grant an agent asks for widens the policy for good: its own client
	// may not be the one to approve it.
	if !canElicit(call) || req.Grant {
		if p.Fallback != nil {
			return p.Fallback.Ask(ctx, req)
		}
		return sandbox.Deny, sandbox.ErrNoOneToAsk
	}
	res, err := call.Session.Elicit(ctx, &mcp.ElicitParams{Mode: "form", Message: elicitMessage(req), RequestedSchema: elicitSchema})
	if err != nil {
		if ctx.Err() != nil {
			return sandbox.Deny, ctx.Err()
		}
		return sandbox.Deny, fmt.Errorf("asking through %s: %w", req.Client, err)
	}
	if res.Action == "accept" {
		if allow, _ := res.Content["allow"].(bool); allow {
			return sandbox.AllowOnce, nil
		}
	}
	return sandbox.Deny, nil
}

// canElicit reports whether the client behind call may be sent an
// elicitation request now: it declared the capability, and its protocol
// lets a server send requests (2026-07-28 and later do not).
func canElicit(call *mcp.CallToolRequest) bool {
	if call == nil || !legacySession(call) {
		return false
	}
	caps := call.ClientCapabilities()
	return caps != nil && caps.Elicitation != nil
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
