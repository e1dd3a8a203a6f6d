package component

import (
	"context"
	"encoding/json"
	"errors"

	"tapedeck.dev/tapedeck/sandbox/component/internal/jsonbridge"
)

// Tool is an exported function seen as an MCP tool: a name, a description
// from the component's package-docs, and JSON Schemas for its arguments and
// result.
type Tool struct {
	// Name is the tool's name on its own, from its export path (Wassette's
	// rule: the path joined with "_", lowercased, anything outside
	// [a-z0-9-] replaced by "_", shortened with a hash past 128 bytes).
	// Across components a ToolNames may rename it to avoid a collision.
	Name        string
	Description string
	// InputSchema is a JSON Schema object of the parameters; OutputSchema
	// describes {"result": …} and is nil when the function returns nothing.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// Unavailable is non-empty when the function cannot be called with JSON
	// (it takes or returns a resource handle); it says why.
	Unavailable string

	Func *Func
}

// Tools returns one Tool per exported function, in export order.
func (c *Component) Tools() []Tool {
	docs, _ := jsonbridge.ParsePackageDocs(c.bin.PackageDocs) // docs are optional: bad docs mean no descriptions
	out := make([]Tool, 0, len(c.funcs))
	for _, f := range c.funcs {
		out = append(out, toolFor(f, docs))
	}
	return out
}

// JSONResult is a call's result in the two forms an MCP tool result carries.
type JSONResult struct {
	// Structured is {"result": …}; nil when the function returns nothing.
	Structured json.RawMessage
	// Text is the text copy: a string result as it is, anything else as JSON.
	Text string
}

// ArgumentError reports JSON arguments that do not fit the function's
// parameters; its message names the path of the bad field and what was
// expected.
type ArgumentError struct{ Err error }

func (e *ArgumentError) Error() string { return e.Err.Error() }
func (e *ArgumentError) Unwrap() error { return e.Err }

// CallJSON calls f with JSON arguments (an object of parameters) and returns
// the result as JSON. Bad arguments give an *ArgumentError before the guest
// runs; guest failures are as for Call.
func (i *Instance) CallJSON(ctx context.Context, f *Func, args json.RawMessage) (*JSONResult, error) {
	vals, err := jsonbridge.DecodeArgs(f.Type, args)
	if err != nil {
		return nil, &ArgumentError{Err: err}
	}
	res, err := i.Call(ctx, f, vals)
	if err != nil {
		return nil, err
	}
	structured, text, err := jsonbridge.EncodeResults(f.Type, res)
	if err != nil {
		return nil, errors.Join(errors.New("component: the result cannot be expressed as JSON"), err)
	}
	return &JSONResult{Structured: structured, Text: text}, nil
}

// ToolNames hands out tool names across loaded components so that no two
// tools share a name and none takes a built-in tool's name: the first
// component to ask keeps a name, a later one gets "<component-id>_<name>".
// The zero value is ready to use; it is safe for concurrent use.
type ToolNames struct{ r jsonbridge.Registry }

// NameAssignment is the name ToolNames gave one tool, and why it differs
// from the name the tool wanted, if it does.
type NameAssignment struct {
	Wanted, Name, Note string
}

// Assign names the tools of component id, in order (wanted: each Tool.Name).
func (n *ToolNames) Assign(id string, wanted []string) []NameAssignment {
	as := n.r.Assign(id, wanted)
	out := make([]NameAssignment, len(as))
	for i, a := range as {
		out[i] = NameAssignment{Wanted: a.Wanted, Name: a.Name, Note: a.Note}
	}
	return out
}

// Release frees the names of component id.
func (n *ToolNames) Release(id string) { n.r.Release(id) }

// BuiltinToolNames lists the names of Tapedeck's built-in MCP tools, which
// no component tool may take.
func BuiltinToolNames() []string { return jsonbridge.BuiltinToolNames() }
