package clients

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlEditor edits a YAML config in block style. It finds things with
// yaml.v3's node tree (which knows each node's line) and splices whole lines
// of text; it never re-encodes the document, so comments, quoting and
// anchors elsewhere stay as they are.
//
// Our entry is a block of lines appended after the last entry of the
// servers collection; removing it deletes exactly those lines.
type yamlEditor struct {
	servers string // the root key of the servers collection
	list    bool   // a list of items named by "name" (Continue), else a map (Goose)
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlError(data []byte, err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &SyntaxError{Line: line, Column: 1, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return &SyntaxError{Line: 1, Column: 1, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
}

// parseYAML parses a single-document YAML file.
func parseYAML(data []byte) (*yaml.Node, error) {
	// The YAML parser also breaks lines at a lone CR and at U+0085, U+2028
	// and U+2029; the line splicing here knows only LF and CRLF.
	for _, odd := range []string{"\u0085", "\u2028", "\u2029"} {
		if i := bytes.Index(data, []byte(odd)); i >= 0 {
			return nil, syntaxErrorAt(data, i, "an unusual line break (%U); edit this file by hand", []rune(odd)[0])
		}
	}
	for i, c := range data {
		if c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return nil, syntaxErrorAt(data, i, "a carriage return without a line feed; edit this file by hand")
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(data, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, &SyntaxError{Line: more.Line, Column: 1, Msg: "more than one YAML document in the file; edit it by hand"}
	}
	// The node tree does not catch duplicate keys; decoding does.
	var check any
	if err := yaml.Unmarshal(data, &check); err != nil {
		return nil, yamlError(data, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode || root.Style&yaml.FlowStyle != 0 {
		return nil, &SyntaxError{Line: root.Line, Column: root.Column, Msg: "the top level is not a block mapping; edit it by hand"}
	}
	return root, nil
}

func (e yamlEditor) decode(data []byte) (any, error) {
	if _, err := parseYAML(data); err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, yamlError(data, err)
	}
	return v, nil
}

// yamlFound is what find located: the servers key and value, and our entry.
type yamlFound struct {
	root       *yaml.Node
	key, value *yaml.Node // the servers collection, nil when absent
	ours       *yaml.Node // our entry's value (map) or item (list)
	oursKey    *yaml.Node // our key, for a map
	lastEntry  *yaml.Node // the collection's last entry (its key for a map)
	lastValue  *yaml.Node
}

func (e yamlEditor) find(data []byte) (*yamlFound, error) {
	root, err := parseYAML(data)
	if err != nil || root == nil {
		return &yamlFound{}, err
	}
	f := &yamlFound{root: root}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == e.servers {
			if f.key != nil {
				return nil, &SyntaxError{Line: root.Content[i].Line, Column: root.Content[i].Column, Msg: fmt.Sprintf("the key %q appears twice; remove one", e.servers)}
			}
			f.key, f.value = root.Content[i], root.Content[i+1]
		}
	}
	if f.key == nil {
		return f, nil
	}
	v := f.value
	bad := func(msg string) error {
		return &SyntaxError{Line: v.Line, Column: v.Column, Msg: fmt.Sprintf("%q %s; edit it by hand", e.servers, msg)}
	}
	switch {
	case v.Kind == yaml.AliasNode || v.Anchor != "":
		return nil, bad("is an alias or anchor")
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "":
		return f, nil // "servers:" with nothing under it
	case v.Style&yaml.FlowStyle != 0:
		return nil, bad("is written in flow style")
	case e.list && v.Kind != yaml.SequenceNode:
		return nil, bad("is not a list")
	case !e.list && v.Kind != yaml.MappingNode:
		return nil, bad("is not a map")
	}
	if e.list {
		for _, item := range v.Content {
			f.lastEntry, f.lastValue = item, item
			if item.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(item.Content); j += 2 {
				if item.Content[j].Value == "name" && item.Content[j+1].Value == EntryKey {
					if f.ours != nil {
						return nil, &SyntaxError{Line: item.Line, Column: item.Column, Msg: fmt.Sprintf("two items are named %q; remove one", EntryKey)}
					}
					f.ours = item
				}
			}
		}
		return f, nil
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		f.lastEntry, f.lastValue = v.Content[i], v.Content[i+1]
		if v.Content[i].Value == EntryKey {
			if f.ours != nil {
				return nil, &SyntaxError{Line: v.Content[i].Line, Column: v.Content[i].Column, Msg: fmt.Sprintf("the key %q appears twice; remove one", EntryKey)}
			}
			f.oursKey, f.ours = v.Content[i], v.Content[i+1]
		}
	}
	return f, nil
}

func (e yamlEditor) entry(data []byte) (any, bool, error) {
	f, err := e.find(data)
	if err != nil || f.ours == nil {
		return nil, false, err
	}
	if f.ours.Kind == yaml.AliasNode || hasAlias(f.ours) {
		return nil, false, &SyntaxError{Line: f.ours.Line, Column: f.ours.Column, Msg: "our entry uses a YAML alias; edit it by hand"}
	}
	var v any
	if err := f.ours.Decode(&v); err != nil {
		return nil, false, yamlError(data, err)
	}
	return v, true, nil
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// lines indexes a file by line (1-based).
type lines struct {
	src    []byte
	starts []int
	nl     string
}

func newLines(src []byte) lines {
	l := lines{src: src, starts: []int{0}, nl: newLayout(src).nl}
	for i, c := range src {
		if c == '\n' {
			l.starts = append(l.starts, i+1)
		}
	}
	return l
}

func (l lines) count() int {
	if len(l.src) > 0 && l.src[len(l.src)-1] == '\n' {
		return len(l.starts) - 1
	}
	return len(l.starts)
}

// end is the offset of line n's end, before its newline.
func (l lines) end(n int) int {
	if n >= len(l.starts) {
		return len(l.src)
	}
	e := l.starts[n] - 1
	if e > 0 && l.src[e-1] == '\r' {
		e--
	}
	return e
}

func (l lines) text(n int) string { return string(l.src[l.starts[n-1]:l.end(n)]) }

func (l lines) indent(n int) int {
	t := l.text(n)
	return len(t) - len(strings.TrimLeft(t, " "))
}

// lastLine is the last line of node n's text: its deepest last descendant,
// extended over continuation lines indented deeper than minIndent.
func (l lines) lastLine(n *yaml.Node, minIndent int) int {
	last := maxLine(n)
	// Plain and quoted scalars may go on over more lines, blank ones
	// included; a comment or a line indented no deeper ends them.
	for j := last + 1; j <= l.count(); j++ {
		trimmed := strings.TrimSpace(l.text(j))
		if trimmed == "" {
			continue
		}
		if strings.HasPrefix(trimmed, "#") || l.indent(j) <= minIndent {
			break
		}
		last = j
	}
	return last
}

func maxLine(n *yaml.Node) int {
	m := n.Line
	for _, c := range n.Content {
		if l := maxLine(c); l > m {
			m = l
		}
	}
	return m
}

// firstLine is the line where an entry starts: a map key's line, or the
// line of a list item's dash.
func (l lines) firstLine(n *yaml.Node, list bool) int {
	if !list {
		return n.Line
	}
	off := l.starts[n.Line-1] + n.Column - 1
	i := bytes.LastIndexByte(l.src[:off], '-')
	if i < 0 {
		return n.Line
	}
	return 1 + bytes.Count(l.src[:i], []byte("\n"))
}

// removeLines deletes lines first..last and the newline that joins them to
// the text before (or after, for a block at the top of the file).
func (l lines) removeLines(first, last int) []byte {
	if first == 1 {
		end := len(l.src)
		if last < len(l.starts) {
			end = l.starts[last]
		}
		return splice(l.src, 0, end, "")
	}
	return splice(l.src, l.end(first-1), l.end(last), "")
}

// insertAfter adds block (lines without their final newline) after line n;
// n == 0 puts it at the top of the file.
func (l lines) insertAfter(n int, block string) []byte {
	if n == 0 {
		return splice(l.src, 0, 0, block+l.nl)
	}
	return splice(l.src, l.end(n), l.end(n), l.nl+block)
}

// anchorLine is the last line of the document that is not blank.
func (l lines) anchorLine() int {
	for n := l.count(); n >= 1; n-- {
		if strings.TrimSpace(l.text(n)) != "" {
			return n
		}
	}
	return 0
}

// block renders our entry at indent (the column of a map key, or of a list
// item's dash).
func (e yamlEditor) block(want []field, indent int, nl string) string {
	pad := strings.Repeat(" ", indent)
	var out []string
	inner := pad + "  "
	if e.list {
		for i, f := range want {
			prefix := inner
			if i == 0 {
				prefix = pad + "- "
			}
			out = append(out, yamlField(prefix, inner, f)...)
		}
	} else {
		out = append(out, pad+EntryKey+":")
		for _, f := range want {
			out = append(out, yamlField(inner, inner, f)...)
		}
	}
	return strings.Join(out, nl)
}

func yamlField(prefix, indent string, f field) []string {
	switch v := f.value.(type) {
	case []string:
		out := []string{prefix + f.key + ":"}
		for _, s := range v {
			out = append(out, indent+"  - "+yamlScalar(s))
		}
		return out
	case string:
		return []string{prefix + f.key + ": " + yamlScalar(v)}
	}
	return []string{prefix + f.key + ": " + jsonScalar(f.value)}
}

// yamlScalar writes s plain when YAML reads it back as the same string,
// else double-quoted.
func yamlScalar(s string) string {
	var back string
	if !strings.ContainsAny(s, "\n\r\t#:'\"{}[],&*!|>%@`") && s == strings.TrimSpace(s) && s != "" {
		if yaml.Unmarshal([]byte("v: "+s), &struct{ V *string }{&back}) == nil && back == s {
			var typed any
			if yaml.Unmarshal([]byte(s), &typed) == nil {
				if str, ok := typed.(string); ok && str == s {
					return s
				}
			}
		}
	}
	return jsonString(s)
}

func (e yamlEditor) upsert(data []byte, want []field) ([]byte, error) {
	out, err := e.splice(data, want)
	if err != nil || bytes.Equal(out, data) {
		return out, err
	}
	// YAML has layouts the line splicing above does not foresee; a result
	// that does not parse is one of them.
	if _, err := e.decode(out); err != nil {
		return nil, fmt.Errorf("cannot add Tapedeck's entry to this file's layout (%v); add it by hand", err)
	}
	return out, nil
}

func (e yamlEditor) splice(data []byte, want []field) ([]byte, error) {
	f, err := e.find(data)
	if err != nil {
		return nil, err
	}
	l := newLines(data)
	if f.ours != nil {
		cur, _, err := e.entry(data)
		if err != nil {
			return nil, err
		}
		if !isOurs(cur) {
			return nil, ErrNotOurs
		}
		if upToDate(cur, want) {
			return data, nil
		}
		first := l.firstLine(f.ours, e.list)
		if !e.list {
			first = f.oursKey.Line
		}
		indent := l.indent(first)
		last := l.lastLine(f.ours, indent)
		rest := l.removeLines(first, last)
		return newLines(rest).insertAfter(first-1, e.block(want, indent, l.nl)), nil
	}
	if f.key == nil {
		// No servers collection: add one after the last line.
		col := 0
		if f.root != nil && len(f.root.Content) > 0 {
			col = f.root.Content[0].Column - 1
		}
		block := strings.Repeat(" ", col) + e.servers + ":" + l.nl + e.block(want, col+2, l.nl)
		return l.insertAfter(l.anchorLine(), block), nil
	}
	if f.lastEntry == nil {
		return l.insertAfter(f.key.Line, e.block(want, f.key.Column-1+2, l.nl)), nil
	}
	first := l.firstLine(f.lastEntry, e.list)
	indent := l.indent(first)
	last := l.lastLine(f.lastValue, indent)
	if lk := l.lastLine(f.lastEntry, indent); lk > last {
		last = lk
	}
	return l.insertAfter(last, e.block(want, indent, l.nl)), nil
}

func (e yamlEditor) remove(data []byte) ([]byte, error) {
	f, err := e.find(data)
	if err != nil {
		return nil, err
	}
	if f.ours == nil {
		return data, nil
	}
	cur, _, err := e.entry(data)
	if err != nil {
		return nil, err
	}
	if !isOurs(cur) {
		return nil, ErrNotOurs
	}
	l := newLines(data)
	first := l.firstLine(f.ours, e.list)
	if !e.list {
		first = f.oursKey.Line
	}
	last := l.lastLine(f.ours, l.indent(first))
	// A collection that holds only our entry, right under a bare "key:"
	// line, came with it and goes with it.
	if len(f.value.Content) <= 2 && (e.list && len(f.value.Content) == 1 || !e.list) &&
		first == f.key.Line+1 && strings.TrimSpace(l.text(f.key.Line)) == e.servers+":" &&
		f.key.Column == f.root.Content[0].Column {
		return l.removeLines(f.key.Line, last), nil
	}
	return l.removeLines(first, last), nil
}
