package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// This file is a small JSON-with-comments parser that keeps every value's
// byte span, so an edit can splice text into the original bytes instead of
// re-encoding the document. It accepts what VS Code, Zed and opencode accept
// (// and /* */ comments, trailing commas) when jsonc is set, and strict
// JSON otherwise.

// SyntaxError is a config file that does not parse. Line and Column are
// 1-based; Column counts bytes.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func syntaxErrorAt(src []byte, off int, format string, a ...any) *SyntaxError {
	if off > len(src) {
		off = len(src)
	}
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(src[:off], '\n')
	return &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf(format, a...)}
}

type jkind byte

const (
	jObject jkind = 'o'
	jArray  jkind = 'a'
	jString jkind = 's'
	jNumber jkind = 'n'
	jLit    jkind = 'l' // true, false, null
)

type jnode struct {
	kind       jkind
	start, end int // the value's bytes, src[start:end]
	members    []jmember
	elems      []*jnode
	str        string // the decoded string, for jString
}

type jmember struct {
	key      string
	keyStart int
	value    *jnode
	comma    int // offset of the comma after the value, or -1
}

type jdoc struct {
	src  []byte
	root *jnode // nil for an empty document (whitespace and comments only)
}

const maxDepth = 500

type jparser struct {
	src   []byte
	pos   int
	jsonc bool
	depth int
}

// parseJSON parses src (after a UTF-8 byte order mark, which is kept).
func parseJSON(src []byte, jsonc bool) (*jdoc, error) {
	p := &jparser{src: src, jsonc: jsonc}
	if bytes.HasPrefix(src, bom) {
		p.pos = len(bom)
	}
	if !utf8.Valid(src) {
		return nil, syntaxErrorAt(src, firstInvalidUTF8(src), "not valid UTF-8")
	}
	if err := p.skip(); err != nil {
		return nil, err
	}
	doc := &jdoc{src: src}
	if p.pos == len(src) {
		return doc, nil
	}
	root, err := p.value()
	if err != nil {
		return nil, err
	}
	if err := p.skip(); err != nil {
		return nil, err
	}
	if p.pos != len(src) {
		return nil, p.errorf("unexpected %q after the document", p.src[p.pos])
	}
	doc.root = root
	return doc, nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func (p *jparser) errorf(format string, a ...any) error {
	return syntaxErrorAt(p.src, p.pos, format, a...)
}

// skip passes whitespace and, in JSONC, comments.
func (p *jparser) skip() error {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		case c == '/' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '/' || p.src[p.pos+1] == '*'):
			if !p.jsonc {
				return p.errorf("comments are not allowed in this file (the client reads strict JSON)")
			}
			end := commentEnd(p.src, p.pos)
			if end < 0 {
				return p.errorf("unterminated /* comment")
			}
			p.pos = end
		default:
			return nil
		}
	}
	return nil
}

// commentEnd returns the offset after the comment starting at i (a line
// comment ends before its newline), or -1 for an unterminated block comment.
func commentEnd(src []byte, i int) int {
	if src[i+1] == '/' {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			return len(src)
		}
		end := i + j
		if end > i && src[end-1] == '\r' {
			end--
		}
		return end
	}
	j := bytes.Index(src[i+2:], []byte("*/"))
	if j < 0 {
		return -1
	}
	return i + 2 + j + 2
}

func (p *jparser) value() (*jnode, error) {
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of file, expected a value")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
				n := &jnode{kind: jLit, start: p.pos, end: p.pos + len(lit)}
				p.pos = n.end
				return n, nil
			}
		}
		return nil, p.errorf("unexpected %q, expected a value", c)
	}
}

func (p *jparser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *jparser) object() (*jnode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &jnode{kind: jObject, start: p.pos}
	p.pos++ // {
	for {
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			if len(n.members) > 0 && n.members[len(n.members)-1].comma >= 0 && !p.jsonc {
				return nil, syntaxErrorAt(p.src, n.members[len(n.members)-1].comma, "trailing comma (the client reads strict JSON)")
			}
			p.pos++
			n.end = p.pos
			return n, nil
		}
		if len(n.members) > 0 && n.members[len(n.members)-1].comma < 0 {
			return nil, p.errorf("expected ',' or '}' after an object member")
		}
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errorf("expected a string key or '}'")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expected ':' after the key %q", key.str)
		}
		p.pos++
		if err := p.skip(); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m := jmember{key: key.str, keyStart: key.start, value: v, comma: -1}
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			m.comma = p.pos
			p.pos++
		}
		n.members = append(n.members, m)
	}
}

func (p *jparser) array() (*jnode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &jnode{kind: jArray, start: p.pos}
	p.pos++ // [
	needComma := false
	lastComma := -1
	for {
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			if lastComma >= 0 && !needComma && !p.jsonc {
				return nil, syntaxErrorAt(p.src, lastComma, "trailing comma (the client reads strict JSON)")
			}
			p.pos++
			n.end = p.pos
			return n, nil
		}
		if needComma {
			if p.pos >= len(p.src) || p.src[p.pos] != ',' {
				return nil, p.errorf("expected ',' or ']' after an array element")
			}
			lastComma = p.pos
			p.pos++
			needComma = false
			continue
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		needComma = true
	}
}

func (p *jparser) str() (*jnode, error) {
	start := p.pos
	i := p.pos + 1
	for i < len(p.src) {
		switch c := p.src[i]; {
		case c == '\\':
			i += 2
			continue
		case c == '"':
			n := &jnode{kind: jString, start: start, end: i + 1}
			if err := json.Unmarshal(p.src[start:i+1], &n.str); err != nil {
				return nil, syntaxErrorAt(p.src, start, "bad string: %v", err)
			}
			p.pos = i + 1
			return n, nil
		case c < 0x20:
			return nil, syntaxErrorAt(p.src, i, "control character in a string")
		}
		i++
	}
	return nil, syntaxErrorAt(p.src, start, "unterminated string")
}

func (p *jparser) number() (*jnode, error) {
	start := p.pos
	i := p.pos
	for i < len(p.src) && bytes.IndexByte([]byte("+-0123456789.eE"), p.src[i]) >= 0 {
		i++
	}
	var f json.Number
	if err := json.Unmarshal(p.src[start:i], &f); err != nil {
		return nil, syntaxErrorAt(p.src, start, "bad number %q", p.src[start:i])
	}
	p.pos = i
	return &jnode{kind: jNumber, start: start, end: i}, nil
}

// toAny decodes n the way encoding/json would (the last of duplicate keys
// wins, as in JavaScript).
func (d *jdoc) toAny(n *jnode) any {
	switch n.kind {
	case jObject:
		m := make(map[string]any, len(n.members))
		for _, mem := range n.members {
			m[mem.key] = d.toAny(mem.value)
		}
		return m
	case jArray:
		a := make([]any, 0, len(n.elems))
		for _, e := range n.elems {
			a = append(a, d.toAny(e))
		}
		return a
	case jString:
		return n.str
	}
	var v any
	json.Unmarshal(d.src[n.start:n.end], &v) // validated while parsing
	return v
}

// member returns the index of key in object n, or -1; a key given twice is
// an error, since which one the client uses is not ours to guess.
func (d *jdoc) member(n *jnode, key string) (int, error) {
	found := -1
	for i, m := range n.members {
		if m.key == key {
			if found >= 0 {
				return -1, syntaxErrorAt(d.src, m.keyStart, "the key %q appears twice; remove one", key)
			}
			found = i
		}
	}
	return found, nil
}
