package policy

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ValidationError is a problem in a policy file that stops it from
// loading. It names the place and the field:
//
//	policy.yaml:7:17: permissions.storage.allow[0].access: "exec" is not read or write
type ValidationError struct {
	File         string // base name of the file, "policy.yaml" for Parse
	Line, Column int    // 1-based; 0 when unknown
	Field        string // path of the field, e.g. "permissions.network.allow[2].host"
	Message      string
}

func (e *ValidationError) Error() string {
	return positionPrefix(e.File, e.Line, e.Column, e.Field) + e.Message
}

// Warning is something in a policy file that Tapedeck reads past: a field
// Wassette accepts but Tapedeck does not act on, a field from a newer
// format, a limit that cannot be enforced.
type Warning struct {
	File         string
	Line, Column int
	Field        string
	Message      string
}

func (w Warning) String() string {
	return positionPrefix(w.File, w.Line, w.Column, w.Field) + w.Message
}

func positionPrefix(file string, line, col int, field string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d", line)
		if col > 0 {
			fmt.Fprintf(&b, ":%d", col)
		}
	}
	b.WriteString(": ")
	if field != "" {
		b.WriteString(field + ": ")
	}
	return b.String()
}

// maxErrors bounds how many problems one load reports: enough to fix a
// file in one go, not so many that a garbage file floods a log.
const maxErrors = 20

// interpretation is what reading a policy's node tree yields.
type interpretation struct {
	version, description string
	rules                ruleSet
	limits               Limits
	warnings             []Warning
	errs                 []error
}

// reader walks a policy document, collecting rules, warnings and errors.
type reader struct {
	file string
	out  interpretation
}

func (r *reader) fail(n *yaml.Node, field, format string, args ...any) {
	if len(r.out.errs) >= maxErrors {
		return
	}
	e := &ValidationError{File: r.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	r.out.errs = append(r.out.errs, e)
}

func (r *reader) warn(n *yaml.Node, field, format string, args ...any) {
	w := Warning{File: r.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		w.Line, w.Column = n.Line, n.Column
	}
	r.out.warnings = append(r.out.warnings, w)
}

// interpret reads a document node (or an empty one) into rules.
func interpret(file string, doc *yaml.Node) interpretation {
	r := &reader{file: file}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return r.out // an empty file is an empty policy
	}
	root := doc.Content[0]
	if isNull(root) {
		return r.out
	}
	fields, ok := r.mapping(root, "")
	if !ok {
		return r.out
	}
	var sawVersion bool
	for _, f := range fields {
		switch f.key {
		case "version":
			sawVersion = true
			if v, ok := r.scalar(f.value, "version"); ok {
				if !strings.HasPrefix(v, "1.") {
					r.fail(f.value, "version", "%q is not a version this Tapedeck reads (it reads 1.x; quote it: version: \"1.0\")", v)
				}
				r.out.version = v
			}
		case "description":
			if v, ok := r.scalar(f.value, "description"); ok {
				r.out.description = v
			}
		case "$schema":
			// A pointer to the JSON Schema for editors; nothing to act on.
		case "permissions":
			r.permissions(f.value)
		default:
			r.warn(f.keyNode, f.key, "unknown field ignored (from a newer policy format?)")
		}
	}
	if !sawVersion {
		r.fail(root, "version", "missing: add version: \"1.0\" at the top")
	}
	return r.out
}

type field struct {
	key            string
	keyNode, value *yaml.Node
}

// mapping returns the fields of a mapping node, refusing aliases, merge
// keys, non-string keys and duplicate keys (a second `deny:` would
// otherwise hide the first). A null node is an empty mapping.
func (r *reader) mapping(n *yaml.Node, path string) ([]field, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind == yaml.AliasNode {
		r.fail(n, path, "YAML aliases (*name) are not supported in a policy: write the value out")
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		r.fail(n, path, "must be a mapping (key: value lines)")
		return nil, false
	}
	var out []field
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			r.fail(k, path, "keys must be plain names (no aliases, merges or complex keys)")
			continue
		}
		if seen[k.Value] {
			r.fail(k, join(path, k.Value), "appears twice: merge the two into one")
			continue
		}
		seen[k.Value] = true
		out = append(out, field{key: k.Value, keyNode: k, value: v})
	}
	return out, true
}

func (r *reader) sequence(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind == yaml.AliasNode {
		r.fail(n, path, "YAML aliases (*name) are not supported in a policy: write the value out")
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		r.fail(n, path, "must be a list (lines starting with -)")
		return nil, false
	}
	return n.Content, true
}

func (r *reader) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.fail(n, path, "must be a single value")
		return "", false
	}
	return n.Value, true
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (r *reader) permissions(n *yaml.Node) {
	const path = "permissions"
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	for _, f := range fields {
		p := join(path, f.key)
		switch f.key {
		case "storage":
			r.allowDeny(f.value, p, r.storageRule)
		case "network":
			r.allowDeny(f.value, p, r.networkRule)
		case "environment":
			r.allowDeny(f.value, p, r.environmentRule)
		case "resources":
			r.resources(f.value, p)
		case "runtime":
			r.warn(f.keyNode, p, "ignored: Tapedeck runs every component in its own WebAssembly sandbox, not a container")
		case "ipc":
			r.warn(f.keyNode, p, "ignored: components cannot talk to each other in Tapedeck")
		default:
			r.warn(f.keyNode, p, "unknown permission ignored (from a newer policy format?); it grants nothing")
		}
	}
}

// allowDeny reads a {allow: [...], deny: [...]} section. Unknown keys here
// are errors, not warnings: a misspelt `deny` would silently drop rules.
func (r *reader) allowDeny(n *yaml.Node, path string, rule func(entry *yaml.Node, path string, deny bool)) {
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	for _, f := range fields {
		p := join(path, f.key)
		if f.key != "allow" && f.key != "deny" {
			r.fail(f.keyNode, p, "unknown key: only allow and deny belong here")
			continue
		}
		entries, ok := r.sequence(f.value, p)
		if !ok {
			continue
		}
		for i, e := range entries {
			rule(e, fmt.Sprintf("%s[%d]", p, i), f.key == "deny")
		}
	}
}

func (r *reader) storageRule(n *yaml.Node, path string, deny bool) {
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	var (
		rule          storageRule
		uriNode       *yaml.Node
		haveAccess    bool
		accessProblem bool
	)
	for _, f := range fields {
		p := join(path, f.key)
		switch f.key {
		case "uri":
			uriNode = f.value
			if v, ok := r.scalar(f.value, p); ok {
				pat, err := compileStorageURI(v)
				if err != nil {
					r.fail(f.value, p, "%v", err)
					accessProblem = true
				}
				rule.URI, rule.pattern = v, pat
			} else {
				accessProblem = true
			}
		case "access":
			haveAccess = true
			modes, ok := r.sequence(f.value, p)
			if !ok {
				accessProblem = true
				continue
			}
			for i, m := range modes {
				mp := fmt.Sprintf("%s[%d]", p, i)
				v, ok := r.scalar(m, mp)
				if !ok {
					accessProblem = true
					continue
				}
				switch AccessMode(v) {
				case Read:
					rule.read = true
				case Write:
					rule.write = true
				default:
					r.fail(m, p, "%q is not read or write", v)
					accessProblem = true
				}
			}
		default:
			r.fail(f.keyNode, p, "unknown key: a storage rule has uri and access")
			accessProblem = true
		}
	}
	if uriNode == nil {
		r.fail(n, path, "missing uri (fs:///absolute/path)")
		return
	}
	if !haveAccess || (!rule.read && !rule.write && !accessProblem) {
		r.fail(n, path, "missing access: list read, write or both")
		return
	}
	if accessProblem {
		return
	}
	rule.Access = rule.modes()
	if deny {
		r.out.rules.storageDeny = append(r.out.rules.storageDeny, rule)
	} else {
		r.out.rules.storageAllow = append(r.out.rules.storageAllow, rule)
	}
}

func (r *reader) networkRule(n *yaml.Node, path string, deny bool) {
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	var rule networkRule
	named := 0
	for _, f := range fields {
		p := join(path, f.key)
		switch f.key {
		case "host", "cidr":
			named++
			v, ok := r.scalar(f.value, p)
			if !ok {
				return
			}
			var err error
			if f.key == "host" {
				rule.Host = v
				rule.pattern, err = compileHost(v, deny)
			} else {
				rule.CIDR = v
				rule.pattern, err = compileCIDR(v)
			}
			if err != nil {
				r.fail(f.value, p, "%v", err)
				return
			}
		case "defaults":
			// Wassette's `defaults: true` adds a built-in list of
			// registries, clouds and CDNs. Granting dozens of hosts
			// nobody listed is not deny-by-default, so Tapedeck does not.
			r.warn(f.keyNode, p, "ignored: Tapedeck does not grant Wassette's default host list; list the hosts the component needs")
			if len(fields) == 1 {
				return
			}
		default:
			r.fail(f.keyNode, p, "unknown key: a network rule has host or cidr")
			return
		}
	}
	switch {
	case named == 0:
		r.fail(n, path, "missing host or cidr")
		return
	case named > 1:
		r.fail(n, path, "has both host and cidr: write two rules")
		return
	}
	if deny {
		r.out.rules.networkDeny = append(r.out.rules.networkDeny, rule)
	} else {
		r.out.rules.networkAllow = append(r.out.rules.networkAllow, rule)
	}
}

func (r *reader) environmentRule(n *yaml.Node, path string, deny bool) {
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	var key *string
	for _, f := range fields {
		p := join(path, f.key)
		if f.key != "key" {
			r.fail(f.keyNode, p, "unknown key: an environment rule has key")
			return
		}
		v, ok := r.scalar(f.value, p)
		if !ok {
			return
		}
		if err := checkEnvKey(v); err != nil {
			r.fail(f.value, p, "%v", err)
			return
		}
		key = &v
	}
	if key == nil {
		r.fail(n, path, "missing key")
		return
	}
	if deny {
		r.out.rules.envDeny = append(r.out.rules.envDeny, EnvironmentRule{Key: *key})
	} else {
		r.out.rules.envAllow = append(r.out.rules.envAllow, EnvironmentRule{Key: *key})
	}
}

func checkEnvKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case strings.Contains(key, "*"):
		return fmt.Errorf("%q: environment keys take no wildcards; list each key", key)
	case strings.ContainsAny(key, "=\x00"):
		return fmt.Errorf("%q: a key cannot contain = or a NUL byte", key)
	}
	return nil
}

func (r *reader) resources(n *yaml.Node, path string) {
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	for _, f := range fields {
		p := join(path, f.key)
		switch f.key {
		case "limits":
			r.limits(f.value, p)
		case "cpu", "memory", "io":
			r.warn(f.keyNode, p, "ignored: legacy field; write permissions.resources.limits.%s instead", map[string]string{"cpu": "cpu", "memory": "memory", "io": "memory"}[f.key])
		default:
			r.warn(f.keyNode, p, "unknown resource ignored (from a newer policy format?)")
		}
	}
}

func (r *reader) limits(n *yaml.Node, path string) {
	fields, ok := r.mapping(n, path)
	if !ok {
		return
	}
	for _, f := range fields {
		p := join(path, f.key)
		switch f.key {
		case "memory":
			if v, ok := r.scalar(f.value, p); ok {
				bytes, err := parseMemory(v)
				if err != nil {
					r.fail(f.value, p, "%v", err)
				}
				r.out.limits.MemoryBytes = bytes
			}
		case "cpu":
			if v, ok := r.scalar(f.value, p); ok {
				millis, err := parseCPU(v)
				if err != nil {
					r.fail(f.value, p, "%v", err)
				}
				r.out.limits.CPUMillis = millis
				r.warn(f.keyNode, p, "not enforced: WebAssembly on wazero cannot be held to a CPU share; the per-call time limit applies instead")
			}
		default:
			r.warn(f.keyNode, p, "unknown limit ignored (from a newer policy format?)")
		}
	}
}
