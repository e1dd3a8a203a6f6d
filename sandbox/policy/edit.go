package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"gopkg.in/yaml.v3"
)

// List picks the allow or the deny side of a permission.
type List int

const (
	AllowList List = iota // permissions.*.allow: a grant
	DenyList              // permissions.*.deny: an "always deny"
)

func (l List) key() string {
	if l == DenyList {
		return "deny"
	}
	return "allow"
}

// edit applies change to a copy of the document, re-reads the copy and
// only then makes it the policy: an edit that would leave an invalid
// policy changes nothing.
func (p *Policy) edit(change func(root *yaml.Node) (bool, error)) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	doc := cloneDocument(p.doc)
	root := ensureRoot(doc)
	changed, err := change(root)
	if err != nil || !changed {
		return false, err
	}
	in := interpret(p.file, doc)
	if len(in.errs) > 0 {
		return false, fmt.Errorf("edit would leave an invalid policy: %w", errors.Join(in.errs...))
	}
	p.doc, p.interpretation = doc, in
	return true, nil
}

// AddStorage adds a storage rule, merging with a rule for the same URI:
// granting read and then write on one URI gives one entry with both.
func (p *Policy) AddStorage(list List, uri string, access ...AccessMode) error {
	pat, err := compileStorageURI(uri)
	if err != nil {
		return fmt.Errorf("storage rule: %w", err)
	}
	if len(access) == 0 {
		return errors.New("storage rule: name the access to grant (read, write or both)")
	}
	for _, m := range access {
		if m != Read && m != Write {
			return fmt.Errorf("storage rule: %q is not read or write", m)
		}
	}
	_, err = p.edit(func(root *yaml.Node) (bool, error) {
		seq := ensurePath(root, yaml.SequenceNode, "permissions", "storage", list.key())
		for _, entry := range seq.Content {
			if !sameStorageURI(mapValue(entry, "uri"), pat) {
				continue
			}
			modes := mapValue(entry, "access")
			if modes == nil || modes.Kind != yaml.SequenceNode {
				continue
			}
			var style yaml.Style // quote the new mode as the person quoted theirs
			if len(modes.Content) > 0 {
				style = modes.Content[0].Style
			}
			changed := false
			for _, m := range uniqueModes(access) {
				if !slices.ContainsFunc(modes.Content, func(n *yaml.Node) bool { return n.Value == string(m) }) {
					modes.Content = append(modes.Content, stringNode(string(m), style))
					changed = true
				}
			}
			return changed, nil
		}
		modes := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, m := range uniqueModes(access) {
			modes.Content = append(modes.Content, stringNode(string(m), 0))
		}
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			stringNode("uri", 0), stringNode(uri, yaml.DoubleQuotedStyle),
			stringNode("access", 0), modes,
		}})
		return true, nil
	})
	return err
}

// RemoveStorage removes access from the rules for uri (every access when
// none is named); a rule left with no access is removed. It reports
// whether anything changed.
func (p *Policy) RemoveStorage(list List, uri string, access ...AccessMode) (bool, error) {
	pat, err := compileStorageURI(uri)
	if err != nil {
		return false, fmt.Errorf("storage rule: %w", err)
	}
	return p.edit(func(root *yaml.Node) (bool, error) {
		seq := lookupPath(root, "permissions", "storage", list.key())
		if seq == nil || seq.Kind != yaml.SequenceNode {
			return false, nil
		}
		changed := false
		seq.Content = slices.DeleteFunc(seq.Content, func(entry *yaml.Node) bool {
			if !sameStorageURI(mapValue(entry, "uri"), pat) {
				return false
			}
			if len(access) == 0 {
				changed = true
				return true
			}
			modes := mapValue(entry, "access")
			if modes == nil || modes.Kind != yaml.SequenceNode {
				return false
			}
			before := len(modes.Content)
			modes.Content = slices.DeleteFunc(modes.Content, func(n *yaml.Node) bool {
				return slices.Contains(access, AccessMode(n.Value))
			})
			changed = changed || len(modes.Content) != before
			return len(modes.Content) == 0
		})
		return changed, nil
	})
}

// AddNetwork adds a network rule. hostOrCIDR is a host entry
// ("api.example.com", "*.example.org", "https://api.example.com:8443") or
// a CIDR ("10.0.0.0/8"), which becomes a cidr: entry. A rule equal to one
// already listed is not added twice.
func (p *Policy) AddNetwork(list List, hostOrCIDR string) error {
	key, pat, err := compileNetworkEntry(hostOrCIDR, list == DenyList)
	if err != nil {
		return fmt.Errorf("network rule: %w", err)
	}
	_, err = p.edit(func(root *yaml.Node) (bool, error) {
		seq := ensurePath(root, yaml.SequenceNode, "permissions", "network", list.key())
		for _, entry := range seq.Content {
			if sameNetworkRule(entry, pat, list == DenyList) {
				return false, nil
			}
		}
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			stringNode(key, 0), stringNode(hostOrCIDR, yaml.DoubleQuotedStyle),
		}})
		return true, nil
	})
	return err
}

// RemoveNetwork removes the rules equal to hostOrCIDR and reports whether
// there were any.
func (p *Policy) RemoveNetwork(list List, hostOrCIDR string) (bool, error) {
	_, pat, err := compileNetworkEntry(hostOrCIDR, list == DenyList)
	if err != nil {
		return false, fmt.Errorf("network rule: %w", err)
	}
	return p.edit(func(root *yaml.Node) (bool, error) {
		seq := lookupPath(root, "permissions", "network", list.key())
		if seq == nil || seq.Kind != yaml.SequenceNode {
			return false, nil
		}
		before := len(seq.Content)
		seq.Content = slices.DeleteFunc(seq.Content, func(entry *yaml.Node) bool {
			return sameNetworkRule(entry, pat, list == DenyList)
		})
		return len(seq.Content) != before, nil
	})
}

// AddEnvironment adds an environment rule for key, once.
func (p *Policy) AddEnvironment(list List, key string) error {
	if err := checkEnvKey(key); err != nil {
		return fmt.Errorf("environment rule: %w", err)
	}
	_, err := p.edit(func(root *yaml.Node) (bool, error) {
		seq := ensurePath(root, yaml.SequenceNode, "permissions", "environment", list.key())
		for _, entry := range seq.Content {
			if v := mapValue(entry, "key"); v != nil && v.Value == key {
				return false, nil
			}
		}
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			stringNode("key", 0), stringNode(key, yaml.DoubleQuotedStyle),
		}})
		return true, nil
	})
	return err
}

// RemoveEnvironment removes the rules for key and reports whether there
// were any.
func (p *Policy) RemoveEnvironment(list List, key string) (bool, error) {
	return p.edit(func(root *yaml.Node) (bool, error) {
		seq := lookupPath(root, "permissions", "environment", list.key())
		if seq == nil || seq.Kind != yaml.SequenceNode {
			return false, nil
		}
		before := len(seq.Content)
		seq.Content = slices.DeleteFunc(seq.Content, func(entry *yaml.Node) bool {
			v := mapValue(entry, "key")
			return v != nil && v.Value == key
		})
		return len(seq.Content) != before, nil
	})
}

// Reset removes every storage, network and environment rule, allow and
// deny. Limits, the description and fields Tapedeck does not read stay.
func (p *Policy) Reset() error {
	_, err := p.edit(func(root *yaml.Node) (bool, error) {
		perms := lookupPath(root, "permissions")
		if perms == nil || perms.Kind != yaml.MappingNode {
			return false, nil
		}
		changed := false
		for _, section := range []string{"storage", "network", "environment"} {
			if i := mapIndex(perms, section); i >= 0 {
				perms.Content = slices.Delete(perms.Content, i, i+2)
				changed = true
			}
		}
		return changed, nil
	})
	return err
}

// SetMemoryLimit sets permissions.resources.limits.memory to a quantity
// such as "512Mi" (Wassette's `permission grant memory`); "" removes it.
func (p *Policy) SetMemoryLimit(quantity string) error {
	if quantity != "" {
		if _, err := parseMemory(quantity); err != nil {
			return fmt.Errorf("memory limit: %w", err)
		}
	}
	_, err := p.edit(func(root *yaml.Node) (bool, error) {
		if quantity == "" {
			limits := lookupPath(root, "permissions", "resources", "limits")
			if i := mapIndex(limits, "memory"); i >= 0 {
				limits.Content = slices.Delete(limits.Content, i, i+2)
				return true, nil
			}
			return false, nil
		}
		limits := ensurePath(root, yaml.MappingNode, "permissions", "resources", "limits")
		if v := mapValue(limits, "memory"); v != nil {
			if v.Value == quantity && v.Kind == yaml.ScalarNode {
				return false, nil
			}
			*v = *stringNode(quantity, yaml.DoubleQuotedStyle)
			return true, nil
		}
		limits.Content = append(limits.Content, stringNode("memory", 0), stringNode(quantity, yaml.DoubleQuotedStyle))
		return true, nil
	})
	return err
}

func compileNetworkEntry(entry string, deny bool) (key string, pat hostPattern, err error) {
	if _, perr := netip.ParsePrefix(entry); perr == nil {
		pat, err = compileCIDR(entry)
		return "cidr", pat, err
	}
	pat, err = compileHost(entry, deny)
	return "host", pat, err
}

func sameNetworkRule(entry *yaml.Node, pat hostPattern, deny bool) bool {
	if v := mapValue(entry, "host"); v != nil {
		got, err := compileHost(v.Value, deny)
		return err == nil && got == pat
	}
	if v := mapValue(entry, "cidr"); v != nil {
		got, err := compileCIDR(v.Value)
		return err == nil && got == pat
	}
	return false
}

func sameStorageURI(n *yaml.Node, pat storagePattern) bool {
	if n == nil {
		return false
	}
	got, err := compileStorageURI(n.Value)
	return err == nil && slices.Equal(got.segments, pat.segments)
}

func uniqueModes(modes []AccessMode) []AccessMode {
	var out []AccessMode
	for _, m := range []AccessMode{Read, Write} {
		if slices.Contains(modes, m) {
			out = append(out, m)
		}
	}
	return out
}

func stringNode(value string, style yaml.Style) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: style}
}

// ensureRoot makes doc a document holding a mapping and returns the
// mapping; a new one starts with version: "1.0".
func ensureRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		*doc = yaml.Node{Kind: yaml.DocumentNode, HeadComment: doc.HeadComment, FootComment: doc.FootComment}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			stringNode("version", 0), stringNode("1.0", yaml.DoubleQuotedStyle),
		}}
		doc.Content = []*yaml.Node{root}
	}
	return doc.Content[0]
}

// ensurePath walks mapping keys from m, creating what is missing (a null
// value counts as missing), and returns the last value, of kind last.
func ensurePath(m *yaml.Node, last yaml.Kind, keys ...string) *yaml.Node {
	for i, key := range keys {
		kind := yaml.MappingNode
		if i == len(keys)-1 {
			kind = last
		}
		if len(m.Content) == 0 && m.Style == yaml.FlowStyle {
			m.Style = 0 // `permissions: {}` grows into a block
		}
		j := mapIndex(m, key)
		if j < 0 {
			m.Content = append(m.Content, stringNode(key, 0), newCollection(kind))
			j = len(m.Content) - 2
		}
		v := m.Content[j+1]
		if isNull(v) {
			nv := newCollection(kind)
			nv.HeadComment, nv.LineComment, nv.FootComment = v.HeadComment, v.LineComment, v.FootComment
			m.Content[j+1] = nv
			v = nv
		}
		if len(v.Content) == 0 && v.Style == yaml.FlowStyle {
			v.Style = 0 // `allow: []` grows into a block list
		}
		m = v
	}
	return m
}

func newCollection(kind yaml.Kind) *yaml.Node {
	if kind == yaml.SequenceNode {
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
}

// lookupPath walks mapping keys from m; nil when a key is missing.
func lookupPath(m *yaml.Node, keys ...string) *yaml.Node {
	for _, key := range keys {
		m = mapValue(m, key)
		if m == nil {
			return nil
		}
	}
	return m
}

func mapIndex(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if i := mapIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

// cloneDocument deep-copies a node tree, keeping aliases pointing at the
// copies of their anchors.
func cloneDocument(n *yaml.Node) *yaml.Node {
	copies := map[*yaml.Node]*yaml.Node{}
	var clone func(*yaml.Node) *yaml.Node
	clone = func(n *yaml.Node) *yaml.Node {
		if n == nil {
			return nil
		}
		if c, ok := copies[n]; ok {
			return c
		}
		c := *n
		copies[n] = &c
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = clone(child)
		}
		if n.Alias != nil {
			c.Alias = clone(n.Alias)
		}
		return &c
	}
	return clone(n)
}
