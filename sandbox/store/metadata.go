package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Metadata is a component's <id>.metadata.json: what start-up needs to list
// its tools without reading or compiling the code. The JSON field names are
// Wassette's, so a component directory stays one both programs recognize.
type Metadata struct {
	// ComponentID is the component's id; the store sets it.
	ComponentID string `json:"component_id"`
	// ToolSchemas are the MCP tool definitions (name, description,
	// inputSchema, outputSchema, …), one JSON object each.
	ToolSchemas []json.RawMessage `json:"tool_schemas"`
	// FunctionIdentifiers locate each tool's export in the component, in
	// whatever form the runtime chooses; the store keeps them as they are.
	FunctionIdentifiers []json.RawMessage `json:"function_identifiers"`
	// ToolNames are the tools' MCP names, in the order of ToolSchemas.
	ToolNames []string `json:"tool_names"`
	// ValidationStamp describes the code the metadata was made from; the
	// store sets it when it writes the metadata.
	ValidationStamp Stamp `json:"validation_stamp"`
	// CreatedAt is when the metadata was written, in seconds since 1970;
	// the store sets it when it is zero.
	CreatedAt uint64 `json:"created_at"`
}

// Stamp identifies the code a Metadata describes. Size and modification time
// are compared at start-up (a stat, no read); the content hash when the code is
// read anyway.
type Stamp struct {
	FileSize uint64 `json:"file_size"`
	// Mtime is the .wasm file's modification time in seconds since 1970.
	Mtime uint64 `json:"mtime"`
	// ContentHash is the lowercase hex sha256 of the code (Wassette's
	// spelling: no "sha256:" prefix). Empty when unknown.
	ContentHash string `json:"content_hash,omitempty"`
}

// Digest returns the stamp's content hash as "sha256:<hex>", or "" when the
// stamp has none.
func (s Stamp) Digest() string {
	if s.ContentHash == "" {
		return ""
	}
	return "sha256:" + s.ContentHash
}

// maxMetadataSize caps what ParseMetadata reads: tool schemas of a very large
// component are a few hundred KiB.
const maxMetadataSize = 16 << 20

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseMetadata reads a metadata.json. It refuses what the store could not
// have written: tool schemas that are not JSON objects, names that do not
// match the schemas, a malformed hash.
func ParseMetadata(data []byte) (*Metadata, error) {
	if len(data) > maxMetadataSize {
		return nil, fmt.Errorf("metadata is %d bytes, over the %d-byte limit", len(data), maxMetadataSize)
	}
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("metadata is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("metadata has data after its JSON object")
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Metadata) validate() error {
	if m.ComponentID != "" {
		if err := ValidateID(m.ComponentID); err != nil {
			return fmt.Errorf("metadata component_id: %w", err)
		}
	}
	for i, s := range m.ToolSchemas {
		if t := bytes.TrimSpace(s); len(t) == 0 || t[0] != '{' {
			return fmt.Errorf("metadata tool_schemas[%d] is not a JSON object", i)
		}
	}
	if len(m.ToolNames) != len(m.ToolSchemas) {
		return fmt.Errorf("metadata lists %d tool names for %d tool schemas", len(m.ToolNames), len(m.ToolSchemas))
	}
	for i, name := range m.ToolNames {
		if name == "" || strings.ContainsAny(name, "\x00\n") {
			return fmt.Errorf("metadata tool_names[%d] %q is not a tool name", i, name)
		}
	}
	if h := m.ValidationStamp.ContentHash; h != "" && !hexSHA256.MatchString(h) {
		return fmt.Errorf("metadata content_hash %q is not a lowercase hex sha256", h)
	}
	return nil
}

// Marshal encodes the metadata as the store writes it.
func (m *Metadata) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	out := *m
	// Wassette's reader wants arrays, never null.
	if out.ToolSchemas == nil {
		out.ToolSchemas = []json.RawMessage{}
	}
	if out.FunctionIdentifiers == nil {
		out.FunctionIdentifiers = []json.RawMessage{}
	}
	if out.ToolNames == nil {
		out.ToolNames = []string{}
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return append(data, '\n'), nil
}
