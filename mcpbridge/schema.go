package mcpbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/sandbox"
)

// emptyObjectSchema stands in for a tool that declares no input schema.
var emptyObjectSchema = json.RawMessage(`{"type":"object"}`)

// componentTool is one component export as an MCP tool, with its input
// schema resolved once for validating arguments.
type componentTool struct {
	info  sandbox.ToolInfo
	input *jsonschema.Resolved
}

func newComponentTool(info sandbox.ToolInfo) (*componentTool, error) {
	if len(info.InputSchema) == 0 {
		info.InputSchema = emptyObjectSchema
	}
	input, err := resolveSchema(info.InputSchema)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	if t := input.Schema().Type; t != "object" {
		return nil, fmt.Errorf(`input schema has type %q, MCP needs "object"`, t)
	}
	if len(info.OutputSchema) > 0 {
		if _, err := resolveSchema(info.OutputSchema); err != nil {
			return nil, fmt.Errorf("output schema: %w", err)
		}
	}
	return &componentTool{info: info, input: input}, nil
}

// resolveSchema parses and resolves a JSON Schema document.
func resolveSchema(raw json.RawMessage) (*jsonschema.Resolved, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	r, err := s.Resolve(nil)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// sameAs reports whether o describes the same tool to a client.
func (c *componentTool) sameAs(o *componentTool) bool {
	a, b := c.info, o.info
	return a.Name == b.Name && a.Component == b.Component && a.Description == b.Description &&
		bytes.Equal(a.InputSchema, b.InputSchema) && bytes.Equal(a.OutputSchema, b.OutputSchema)
}

// mcpTool is the tool as listed to clients.
func (c *componentTool) mcpTool() *mcp.Tool {
	yes := true
	t := &mcp.Tool{
		Name:        c.info.Name,
		Description: c.info.Description,
		InputSchema: c.info.InputSchema,
		// A component's effects are unknown: claim nothing reassuring.
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &yes, OpenWorldHint: &yes},
		Meta:        mcp.Meta{"dev.tapedeck/component": c.info.Component},
	}
	if t.Description == "" {
		t.Description = fmt.Sprintf("%s from component %s", c.info.Name, c.info.Component)
	}
	if len(c.info.OutputSchema) > 0 {
		t.OutputSchema = c.info.OutputSchema
	}
	return t
}

// checkArgs validates raw arguments against the input schema and returns
// them as a JSON object ("{}" for none).
func (c *componentTool) checkArgs(raw json.RawMessage) (json.RawMessage, error) {
	return validateArgs(c.input, raw)
}

// validateArgs checks raw (absent or null meaning {}) against schema.
func validateArgs(schema *jsonschema.Resolved, raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("arguments must be a JSON object")
	}
	if err := schema.Validate(v); err != nil {
		return nil, err
	}
	return raw, nil
}
