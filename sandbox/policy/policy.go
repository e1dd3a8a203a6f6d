package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// AccessMode is a storage access a rule grants or denies.
type AccessMode string

const (
	Read  AccessMode = "read"
	Write AccessMode = "write"
)

// StorageRule is one entry of permissions.storage.allow or .deny.
type StorageRule struct {
	URI    string       `json:"uri"`
	Access []AccessMode `json:"access"`
}

// NetworkRule is one entry of permissions.network.allow or .deny: either
// Host or CIDR is set.
type NetworkRule struct {
	Host string `json:"host,omitempty"`
	CIDR string `json:"cidr,omitempty"`
}

// EnvironmentRule is one entry of permissions.environment.allow or .deny.
type EnvironmentRule struct {
	Key string `json:"key"`
}

// Permissions is the rules of a policy as plain data, shaped like the file
// (for get-policy and for showing a person what a component may do).
type Permissions struct {
	Storage     StorageRules     `json:"storage"`
	Network     NetworkRules     `json:"network"`
	Environment EnvironmentRules `json:"environment"`
}

// StorageRules is permissions.storage.
type StorageRules struct {
	Allow []StorageRule `json:"allow,omitempty"`
	Deny  []StorageRule `json:"deny,omitempty"`
}

// NetworkRules is permissions.network.
type NetworkRules struct {
	Allow []NetworkRule `json:"allow,omitempty"`
	Deny  []NetworkRule `json:"deny,omitempty"`
}

// EnvironmentRules is permissions.environment (Wassette has no deny list
// here; Tapedeck reads one).
type EnvironmentRules struct {
	Allow []EnvironmentRule `json:"allow,omitempty"`
	Deny  []EnvironmentRule `json:"deny,omitempty"`
}

// Limits is permissions.resources.limits. Zero means not set: the
// runtime's default applies.
type Limits struct {
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// CPUMillis is read and kept but not enforced: wazero cannot meter a
	// CPU share. Loading a policy that sets it gives a Warning.
	CPUMillis int64 `json:"cpu_millis,omitempty"`
}

// storageRule is a StorageRule with its compiled pattern.
type storageRule struct {
	StorageRule
	pattern     storagePattern
	read, write bool
}

func (r storageRule) grants(write bool) bool {
	if write {
		return r.write
	}
	return r.read
}

func (r storageRule) modes() []AccessMode {
	var m []AccessMode
	if r.read {
		m = append(m, Read)
	}
	if r.write {
		m = append(m, Write)
	}
	return m
}

// networkRule is a NetworkRule with its compiled pattern.
type networkRule struct {
	NetworkRule
	pattern hostPattern
}

func (r networkRule) value() string {
	if r.CIDR != "" {
		return r.CIDR
	}
	return r.Host
}

type ruleSet struct {
	storageAllow, storageDeny []storageRule
	networkAllow, networkDeny []networkRule
	envAllow, envDeny         []EnvironmentRule
}

// Policy is one component's policy.yaml. It keeps the file's YAML tree, so
// that edits (grants, revokes) keep the person's comments and key order.
// Its methods are safe for concurrent use: Decide may run on many calls
// while a grant is being written.
type Policy struct {
	mu   sync.RWMutex
	file string     // base name for messages
	doc  *yaml.Node // the document; Kind 0 for an empty one
	interpretation
}

// New returns an empty policy: every access is Ask.
func New() *Policy {
	return &Policy{file: "policy.yaml", doc: &yaml.Node{}}
}

// Parse reads a policy.yaml. An empty document is an empty policy. Errors
// are *ValidationError values joined with errors.Join (up to 20, each
// naming a line and field); Warnings lists what was read past.
func Parse(data []byte) (*Policy, error) {
	return parse("policy.yaml", data)
}

// Load reads the policy at path. A missing file is an empty policy (every
// access asks), not an error.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		p := New()
		p.file = filepath.Base(path)
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return parse(filepath.Base(path), data)
}

func parse(file string, data []byte) (*Policy, error) {
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (check the indentation and quoting)", file, err)
	}
	in := interpret(file, doc)
	if len(in.errs) > 0 {
		return nil, errors.Join(in.errs...)
	}
	return &Policy{file: file, doc: doc, interpretation: in}, nil
}

// decodeDocument decodes exactly one YAML document into a node tree.
func decodeDocument(data []byte) (doc *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on malformed input before; a bad policy
		// file must be an error, never a crash of the whole server.
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("unreadable YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	doc = &yaml.Node{}
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	spellOutFlowNulls(doc, false)
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: a second YAML document (---); a policy is one document", extra.Line)
	}
	return doc, nil
}

// spellOutFlowNulls writes an empty null inside a flow collection as
// "null": yaml.v3 would write it back as an empty quoted string, so
// `{limits}` would come back as a string value and mean something else.
func spellOutFlowNulls(n *yaml.Node, inFlow bool) {
	inFlow = inFlow || n.Style&yaml.FlowStyle != 0
	if inFlow && n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" {
		n.Value = "null"
	}
	for _, c := range n.Content {
		spellOutFlowNulls(c, inFlow)
	}
}

// Version is the file's version field ("1.0"); empty for an empty policy.
func (p *Policy) Version() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.version
}

// Description is the file's description field.
func (p *Policy) Description() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.description
}

// Permissions returns a copy of the rules.
func (p *Policy) Permissions() Permissions {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out Permissions
	for _, r := range p.rules.storageAllow {
		out.Storage.Allow = append(out.Storage.Allow, StorageRule{URI: r.URI, Access: slices.Clone(r.Access)})
	}
	for _, r := range p.rules.storageDeny {
		out.Storage.Deny = append(out.Storage.Deny, StorageRule{URI: r.URI, Access: slices.Clone(r.Access)})
	}
	for _, r := range p.rules.networkAllow {
		out.Network.Allow = append(out.Network.Allow, r.NetworkRule)
	}
	for _, r := range p.rules.networkDeny {
		out.Network.Deny = append(out.Network.Deny, r.NetworkRule)
	}
	out.Environment.Allow = slices.Clone(p.rules.envAllow)
	out.Environment.Deny = slices.Clone(p.rules.envDeny)
	return out
}

// Limits returns permissions.resources.limits.
func (p *Policy) Limits() Limits {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.limits
}

// Warnings returns what the last load or edit read past (ignored and
// unknown fields, a CPU limit that is not enforced).
func (p *Policy) Warnings() []Warning {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.warnings)
}

// Marshal returns the policy as YAML: the file as it was read, with edits
// applied and comments kept; indentation is normalized to two spaces.
func (p *Policy) Marshal() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return encodeDocument(p.doc)
}

func encodeDocument(doc *yaml.Node) (out []byte, err error) {
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		// An empty policy is an empty file. A file holding only comments
		// is read as empty too (yaml.v3 keeps no node to hang them on).
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("encode policy: %v", r)
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes the policy to path atomically (a reader sees the old file or
// the new, never half of one), keeping the file's mode; a new file is 0600.
func (p *Policy) Save(path string) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	return nil
}
