// Package sandbox is Tapedeck's trusted core: a Host loads components into
// the Wasm sandbox, lists their tools, calls them, and keeps each
// component's policy — asking a person (through a Prompter) when a
// component reaches for something its policy does not settle.
//
// The layers above (mcpbridge, the desktop app, the CLI) speak to the sandbox
// only through the Host and the small types in this file; the runtime,
// WASI host and store are its internals.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// Prompter asks a person about an access the policy does not settle, or a
// grant an agent requested. Ask blocks until the person answers, ctx is done
// (the call was cancelled: return ctx.Err()), or the implementation's own
// timeout passes (answer Deny). Implementations: the tray's dialog, MCP
// elicitation through the calling client, a fixed answer when headless.
// Ask may be called from many goroutines at once.
type Prompter interface {
	Ask(ctx context.Context, req AccessRequest) (Answer, error)
}

// PrompterFunc adapts a function to a Prompter.
type PrompterFunc func(ctx context.Context, req AccessRequest) (Answer, error)

// Ask calls f.
func (f PrompterFunc) Ask(ctx context.Context, req AccessRequest) (Answer, error) { return f(ctx, req) }

// Answer is a person's answer to an AccessRequest. The zero value is Deny.
type Answer int

const (
	Deny        Answer = iota // refuse this time
	AllowOnce                 // allow this time (within the one call)
	AllowAlways               // allow, and write the narrowest rule into the policy
	DenyAlways                // refuse, and write a deny rule into the policy
	// AllowFolderAlways allows, and writes a rule for the whole folder the
	// request offered (AccessRequest.Folder) rather than the one file.
	AllowFolderAlways
)

func (a Answer) String() string {
	switch a {
	case Deny:
		return "deny"
	case AllowOnce:
		return "allow once"
	case AllowAlways:
		return "allow always"
	case DenyAlways:
		return "always deny"
	case AllowFolderAlways:
		return "allow the folder always"
	}
	return fmt.Sprintf("Answer(%d)", int(a))
}

// Allowed reports whether the answer lets the access through.
func (a Answer) Allowed() bool { return a == AllowOnce || a == AllowAlways || a == AllowFolderAlways }

// AccessRequest is one question for a person.
type AccessRequest struct {
	// ID identifies the question, unique within the process, so a UI can
	// drop it when the call behind it is cancelled.
	ID string
	// Component is the id of the component that asks.
	Component string
	// Tool is the tool being called, when the access happens during a call.
	Tool string
	// Client is the MCP client behind the call or the grant request.
	Client Client
	// Access is exactly what is asked for: a host with scheme and port, a
	// path with read or write, a variable name.
	Access policy.Access
	// Grant is set when an agent asked to widen the policy (the grant-*
	// tools), rather than the component reaching for something mid-call.
	Grant bool
	// Why says in plain words why the access matters.
	Why string
	// AllowAlwaysOffered is false where an "always" answer may not be given
	// (an answer through the agent's own client can allow once only).
	AllowAlwaysOffered bool
	// Folder, for a storage access, is the folder a person may choose to
	// allow instead of the single file ("allow always" on a folder).
	Folder string
	// Proposal, when not empty, is a whole policy (YAML) proposed for
	// approval — one that arrived with a component, or the grants of older
	// code to carry over to new code — and Access is nil. The answer is
	// AllowOnce/AllowAlways (apply it) or Deny.
	Proposal string
	// Asked is when the question was raised; Deadline when it is denied
	// for want of an answer.
	Asked, Deadline time.Time
}

// Client is the MCP client behind a call: the name it claims and, where the
// transport can tell, the real process behind the connection (a claimed
// name can lie; the process cannot).
type Client struct {
	Name    string `json:"name"`              // clientInfo.name, as claimed
	Version string `json:"version,omitempty"` // clientInfo.version, as claimed
	// Transport is how the request arrived: "stdio", "socket", "http" for
	// MCP clients (agents); "cli" and "app" for a person's own commands.
	// The Host treats "cli" and "app" as the person acting, so transports
	// must set them only for requests that really come from those (never
	// from a claimed name).
	Transport string `json:"transport"`
	PID       int    `json:"pid,omitempty"`     // the peer process, from the socket; 0 when unknown
	Process   string `json:"process,omitempty"` // that process's name, e.g. "claude"
	UID       int    `json:"uid,omitempty"`
}

// String reads "claude (pid 4121)" or "Claude Code 1.2 via claude (pid 4121)".
func (c Client) String() string {
	name := c.Name
	if name == "" {
		name = "an unnamed client"
	}
	if c.Version != "" {
		name += " " + c.Version
	}
	switch {
	case c.PID != 0 && c.Process != "":
		return fmt.Sprintf("%s via %s (pid %d)", name, c.Process, c.PID)
	case c.PID != 0:
		return fmt.Sprintf("%s (pid %d)", name, c.PID)
	}
	return name
}

// State is where a component is in its life.
type State string

const (
	StateCompiling State = "compiling" // listed from saved metadata, code being compiled
	StateReady     State = "ready"
	StateFailed    State = "failed" // see ComponentInfo.Error
	StateDisabled  State = "disabled"
)

// ComponentInfo describes a loaded component.
type ComponentInfo struct {
	ID      string     `json:"id"`
	Source  string     `json:"source"` // the URI it was loaded from
	Digest  string     `json:"digest"` // "sha256:…" of its code
	Size    int64      `json:"size"`
	State   State      `json:"state"`
	Error   string     `json:"error,omitempty"`
	Enabled bool       `json:"enabled"`
	Tools   []ToolInfo `json:"tools"`
	Loaded  time.Time  `json:"loaded"`
}

// ToolInfo describes one tool a component offers.
type ToolInfo struct {
	Name         string          `json:"name"` // unique across components
	Component    string          `json:"component"`
	Export       []string        `json:"export"` // the export path it comes from
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	// Unavailable says why the tool cannot be called with JSON, if so.
	Unavailable string `json:"unavailable,omitempty"`
	// Note says why the tool's name differs from its export's, if it does.
	Note string `json:"note,omitempty"`
}

// CallRequest is one tool call.
type CallRequest struct {
	Tool   string
	Args   json.RawMessage // a JSON object; nil means {}
	Client Client
}

// CallResult is what a tool call returns. A tool failure (a trap, a
// timeout, a denial, bad arguments) is a result with IsError set and Text
// saying what happened and what to do; only a call that could not be made
// at all (no such tool) is an error.
type CallResult struct {
	Structured json.RawMessage `json:"structuredContent,omitempty"` // {"result": …}
	Text       string          `json:"text"`
	IsError    bool            `json:"isError,omitempty"`
	Stdout     string          `json:"stdout,omitempty"` // what the guest printed, capped
	Stderr     string          `json:"stderr,omitempty"`
	Duration   time.Duration   `json:"duration"`
	// Notes are what a person should know of a call that succeeded beyond
	// its result, such as a memory limit the guest ran into and coped
	// with, one sentence each. Text ends with them too.
	Notes []string `json:"notes,omitempty"`
	// Denied lists the accesses refused during the call, in order and
	// without repeats, each saying what was refused, why, and how to
	// allow it. Text names them too where they may explain the outcome.
	Denied []string `json:"denied,omitempty"`
}

// EventKind names what an Event reports.
type EventKind string

const (
	EventLoaded             EventKind = "loaded"
	EventCompiling          EventKind = "compiling"
	EventReady              EventKind = "ready"
	EventFailed             EventKind = "failed"
	EventUnloaded           EventKind = "unloaded"
	EventCallStarted        EventKind = "call-started"
	EventCallFinished       EventKind = "call-finished"
	EventAsked              EventKind = "asked"
	EventAllowed            EventKind = "allowed"
	EventDenied             EventKind = "denied"
	EventPolicyChanged      EventKind = "policy-changed"
	EventClientConnected    EventKind = "client-connected"
	EventClientDisconnected EventKind = "client-disconnected"
	EventPaused             EventKind = "paused"
	EventResumed            EventKind = "resumed"
)

// Event is one thing that happened in the Host, for the tray, the activity
// log and MCP list_changed notifications.
type Event struct {
	Time      time.Time       `json:"time"`
	Kind      EventKind       `json:"kind"`
	Component string          `json:"component,omitempty"`
	Tool      string          `json:"tool,omitempty"`
	Client    *Client         `json:"client,omitempty"`
	Access    string          `json:"access,omitempty"` // the access asked, allowed or denied, as text
	Answer    string          `json:"answer,omitempty"`
	Detail    string          `json:"detail,omitempty"` // the reason for a failure or denial, or a note
	IsError   bool            `json:"isError,omitempty"`
	Duration  time.Duration   `json:"duration,omitempty"`
	Request   *AccessRequest  `json:"-"` // for EventAsked: the question itself
	Extra     json.RawMessage `json:"extra,omitempty"`
}

// LoadOptions say who asks for a load and how to report on it.
type LoadOptions struct {
	// Client is who asked: an agent through MCP, the CLI, the app.
	Client Client
	// Progress, when not nil, is called as bytes arrive; total is -1 when
	// the size is not known yet. It may be called from another goroutine.
	Progress func(done, total int64)
	// TrustBundledPolicy applies a policy that arrives with the component
	// (OCI policy layer, policy.yaml beside the file) without asking.
	TrustBundledPolicy bool
}

// LoadResult is what a load did.
type LoadResult struct {
	Component ComponentInfo `json:"component"`
	// Reloaded is true when the id was loaded before and its code replaced.
	Reloaded bool `json:"reloaded"`
	// Notes say in plain words what a person should know: a tool renamed
	// for a collision, a bundled policy left unapplied, grants not carried over.
	Notes []string `json:"notes,omitempty"`
}

// PermissionKind names the kind of a Permission, with the words Wassette's
// CLI and MCP tools use.
type PermissionKind string

const (
	PermissionStorage     PermissionKind = "storage"
	PermissionNetwork     PermissionKind = "network"
	PermissionEnvironment PermissionKind = "environment-variable"
	PermissionMemory      PermissionKind = "memory"
)

// Permission is one grant or revocation; which fields matter depends on Kind.
type Permission struct {
	Kind   PermissionKind `json:"kind"`
	URI    string         `json:"uri,omitempty"`    // storage: "fs:///path/**"
	Access []string       `json:"access,omitempty"` // storage: "read", "write"
	Host   string         `json:"host,omitempty"`   // network
	Key    string         `json:"key,omitempty"`    // environment-variable
	Memory string         `json:"memory,omitempty"` // memory: a limit such as "512Mi"
}

// PolicyInfo is a component's policy as stored.
type PolicyInfo struct {
	ComponentID string `json:"component_id"`
	// YAML is the policy file's text; empty when the component has none.
	YAML string `json:"yaml,omitempty"`
	// Path is the file the policy lives in, for a person to open.
	Path string `json:"path,omitempty"`
}

// Errors the Host returns for outcomes the layers above put in words. Match
// them with errors.Is; the Host wraps them with the details.
var (
	// ErrNoComponent: no component has the id asked for.
	ErrNoComponent = errors.New("no such component")
	// ErrDenied: the person was asked and said no (or did not answer in time).
	ErrDenied = errors.New("the person denied it")
	// ErrAgentGrantRefused: an agent asked to widen a policy where nobody
	// can approve it (headless, without --allow-agent-grants).
	ErrAgentGrantRefused = errors.New("headless Tapedeck does not let agents grant permissions")
	// ErrNoOneToAsk: a Prompter has no way to reach a person for this
	// request (the MCP client cannot show a question, or an answer through
	// it may not widen a policy). The Host then acts as when headless.
	ErrNoOneToAsk = errors.New("no one can be asked")
)
