package clients

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// jsonEditor edits a JSON or JSONC config whose servers are a map under the
// key path servers (one or two levels).
//
// Every edit is a splice into the original bytes, designed so that removing
// our entry undoes adding it byte for byte: a new member goes after the last
// one (after a comment on the same line), a trailing comma stays a trailing
// comma, and a servers map or whole file we created is removed with it.
type jsonEditor struct {
	servers string // the key of the servers map in the root object
	jsonc   bool
}

func (e jsonEditor) decode(data []byte) (any, error) {
	doc, err := parseJSON(data, e.jsonc)
	if err != nil {
		return nil, err
	}
	if doc.root == nil {
		return nil, nil
	}
	return doc.toAny(doc.root), nil
}

// find locates the servers map and our entry in it; either may be absent.
func (e jsonEditor) find(doc *jdoc) (cont *jnode, ci, oi int, err error) {
	root := doc.root
	if root.kind != jObject {
		return nil, -1, -1, syntaxErrorAt(doc.src, root.start, "the top level is not an object")
	}
	if ci, err = doc.member(root, e.servers); err != nil || ci < 0 {
		return nil, ci, -1, err
	}
	cont = root.members[ci].value
	if cont.kind != jObject {
		return nil, ci, -1, syntaxErrorAt(doc.src, cont.start, "%q is not an object; fix it by hand", e.servers)
	}
	oi, err = doc.member(cont, EntryKey)
	return cont, ci, oi, err
}

func (e jsonEditor) entry(data []byte) (any, bool, error) {
	doc, err := parseJSON(data, e.jsonc)
	if err != nil || doc.root == nil {
		return nil, false, err
	}
	cont, _, oi, err := e.find(doc)
	if err != nil || oi < 0 {
		return nil, false, err
	}
	return doc.toAny(cont.members[oi].value), true, nil
}

func (e jsonEditor) upsert(data []byte, want []field) ([]byte, error) {
	doc, err := parseJSON(data, e.jsonc)
	if err != nil {
		return nil, err
	}
	f := newLayout(data)
	if doc.root == nil {
		var b strings.Builder
		b.Write(data)
		if len(bytes.TrimPrefix(data, bom)) > 0 {
			b.WriteString(f.nl)
		}
		b.WriteString(f.skeleton(e.servers, f.jsonValue(want, f.unit+f.unit)))
		return []byte(b.String()), nil
	}
	cont, ci, oi, err := e.find(doc)
	if err != nil {
		return nil, err
	}
	root := doc.root
	if ci < 0 {
		indent := f.memberIndent(root)
		text := f.container(e.servers, indent, f.jsonValue(want, indent+f.unit))
		return f.insertMember(root, indent, text), nil
	}
	if oi < 0 {
		indent := f.memberIndent(cont)
		return f.insertMember(cont, indent, jsonString(EntryKey)+": "+f.jsonValue(want, indent)), nil
	}
	m := cont.members[oi]
	current := doc.toAny(m.value)
	if !isOurs(current) {
		return nil, ErrNotOurs
	}
	if upToDate(current, want) {
		return data, nil
	}
	indent := f.lineIndent(m.keyStart)
	return splice(data, m.value.start, m.value.end, f.jsonValue(want, indent)), nil
}

func (e jsonEditor) remove(data []byte) ([]byte, error) {
	doc, err := parseJSON(data, e.jsonc)
	if err != nil {
		return nil, err
	}
	if doc.root == nil {
		return data, nil
	}
	cont, ci, oi, err := e.find(doc)
	if err != nil {
		return nil, err
	}
	if oi < 0 {
		return data, nil
	}
	ours := cont.members[oi]
	if !isOurs(doc.toAny(ours.value)) {
		return nil, ErrNotOurs
	}
	f := newLayout(data)
	root := doc.root
	cm := root.members[ci]
	oursText := string(data[ours.value.start:ours.value.end])
	created := len(cont.members) == 1 && f.firstOnLine(cm.keyStart) &&
		string(data[cm.keyStart:cm.value.end]) == f.container(e.servers, f.lineIndent(cm.keyStart), oursText)
	if !created {
		return f.removeMember(cont, oi), nil
	}
	// The servers map holds only our entry, laid out as we write it: it
	// came with our entry, so it goes with it; so does a whole file.
	if len(root.members) == 1 && f.lineIndent(root.start) == "" && f.firstOnLine(root.start) &&
		string(data[root.start:]) == f.skeleton(e.servers, oursText) {
		before := data[:root.start]
		if len(bytes.TrimPrefix(before, bom)) > 0 {
			before = bytes.TrimSuffix(before, []byte(f.nl))
		}
		return bytes.Clone(before), nil
	}
	return f.removeMember(root, ci), nil
}

// ErrNotOurs reports an entry under Tapedeck's key that is not Tapedeck's
// (its command is not a tapedeck binary run with ["mcp"]). It is left alone.
var ErrNotOurs = errors.New(`an entry named "tapedeck" exists but is not Tapedeck's; it was left alone (rename or remove it, then try again)`)

// layout is a file's formatting conventions, so new text looks like its
// neighbours.
type layout struct {
	src  []byte
	nl   string // "\n" or "\r\n"
	unit string // one level of indentation
}

func newLayout(src []byte) layout {
	f := layout{src: src, nl: "\n", unit: "  "}
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		f.nl = "\r\n"
	}
	// The smallest indentation in the file is one level.
	best := ""
	for _, line := range bytes.Split(src, []byte("\n")) {
		ws := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
		rest := bytes.TrimSpace(line)
		if len(ws) == 0 || len(rest) == 0 {
			continue
		}
		if best == "" || len(ws) < len(best) {
			best = string(ws)
		}
	}
	switch {
	case strings.HasPrefix(best, "\t"):
		f.unit = "\t"
	case best != "" && !strings.Contains(best, "\t"):
		f.unit = best
	}
	return f
}

// lineIndent is the leading whitespace of the line holding offset off.
func (f layout) lineIndent(off int) string {
	start := bytes.LastIndexByte(f.src[:off], '\n') + 1
	if start == 0 && bytes.HasPrefix(f.src, bom) {
		start = len(bom)
	}
	end := start
	for end < len(f.src) && (f.src[end] == ' ' || f.src[end] == '\t') {
		end++
	}
	return string(f.src[start:end])
}

// firstOnLine reports whether only whitespace precedes off on its line.
func (f layout) firstOnLine(off int) bool {
	start := bytes.LastIndexByte(f.src[:off], '\n') + 1
	if start == 0 && bytes.HasPrefix(f.src, bom) {
		start = len(bom)
	}
	return len(bytes.TrimLeft(f.src[start:off], " \t")) == 0
}

// memberIndent is the indentation for a new member of obj.
func (f layout) memberIndent(obj *jnode) string {
	if n := len(obj.members); n > 0 && f.firstOnLine(obj.members[n-1].keyStart) {
		return f.lineIndent(obj.members[n-1].keyStart)
	}
	return f.lineIndent(obj.start) + f.unit
}

// jsonValue renders an entry as a JSON object whose closing brace sits at
// indent.
func (f layout) jsonValue(want []field, indent string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, fl := range want {
		b.WriteString(f.nl + indent + f.unit + jsonString(fl.key) + ": " + jsonScalar(fl.value))
		if i < len(want)-1 {
			b.WriteString(",")
		}
	}
	b.WriteString(f.nl + indent + "}")
	return b.String()
}

// container renders `"key": {` with our entry as its only member.
func (f layout) container(key, indent, oursValue string) string {
	return jsonString(key) + ": {" + f.nl + indent + f.unit + jsonString(EntryKey) + ": " + oursValue + f.nl + indent + "}"
}

// skeleton renders a whole new file.
func (f layout) skeleton(key, oursValue string) string {
	return "{" + f.nl + f.unit + f.container(key, f.unit, oursValue) + f.nl + "}" + f.nl
}

// insertMember adds text as the last member of obj, at indent.
func (f layout) insertMember(obj *jnode, indent, text string) []byte {
	src := f.src
	if n := len(obj.members); n > 0 {
		last := obj.members[n-1]
		if last.comma >= 0 {
			p := f.afterSameLineComment(last.comma + 1)
			return splice(src, p, p, f.nl+indent+text+",")
		}
		e := last.value.end
		p := f.afterSameLineComment(e)
		var b bytes.Buffer
		b.Write(src[:e])
		b.WriteString(",")
		b.Write(src[e:p])
		b.WriteString(f.nl + indent + text)
		b.Write(src[p:])
		return b.Bytes()
	}
	open, close := obj.start+1, obj.end-1
	if c := lastCommentEnd(src, open, close); c >= 0 {
		return splice(src, c, c, f.nl+indent+text)
	}
	inner := string(src[open:close])
	return splice(src, open, close, f.nl+indent+text+padEmpty(inner, f.nl+f.lineIndent(obj.start)))
}

// removeMember deletes member i of obj, undoing insertMember.
func (f layout) removeMember(obj *jnode, i int) []byte {
	src := f.src
	m := obj.members[i]
	gapStart := obj.start + 1
	if i > 0 {
		gapStart = obj.members[i-1].comma + 1
	}
	start := gapStart
	c, lineComment := lastComment(src, gapStart, m.keyStart)
	if c >= 0 {
		start = c
	}
	end := m.value.end
	if m.comma >= 0 {
		end = m.comma + 1
	}
	// A comment on the same line after our entry is about our entry.
	end = f.afterSameLineComment(end)
	if lineComment {
		start = f.keepCommentNewline(start, end)
	}
	if len(obj.members) == 1 {
		close := obj.end - 1
		if start == gapStart && lastCommentEnd(src, end, close) < 0 {
			rest := string(src[end:close])
			return splice(src, start, close, unpadEmpty(rest, f.nl+f.lineIndent(obj.start)))
		}
		return splice(src, start, end, "")
	}
	if m.comma >= 0 {
		return splice(src, start, end, "")
	}
	// Our member is last without a comma: its separator is the previous
	// member's comma.
	prev := obj.members[i-1].comma
	var b bytes.Buffer
	b.Write(src[:prev])
	b.Write(src[prev+1 : start])
	b.Write(src[end:])
	return b.Bytes()
}

// keepCommentNewline moves start past the newline that ends a line comment
// just before it, unless a newline follows end: the comment must stay
// terminated once the text between is gone.
func (f layout) keepCommentNewline(start, end int) int {
	if start >= len(f.src) {
		return start
	}
	rest := bytes.TrimLeft(f.src[end:], " \t")
	if len(rest) > 0 && (rest[0] == '\n' || rest[0] == '\r') {
		return start
	}
	if bytes.HasPrefix(f.src[start:], []byte("\r\n")) {
		return start + 2
	}
	return start + 1
}

// padEmpty and unpadEmpty are inverse maps for the whitespace inside an
// object that held nothing: "" becomes the closing line u, and u repeated k
// times becomes u repeated k+1 times, so every input maps to a distinct
// output and removing our member restores it exactly.
func padEmpty(inner, u string) string {
	if !isSpace(inner) {
		return inner
	}
	if strings.ReplaceAll(inner, u, "") == "" { // "" or u repeated
		return inner + u
	}
	return inner
}

func unpadEmpty(rest, u string) string {
	if rest != "" && isSpace(rest) && strings.ReplaceAll(rest, u, "") == "" && strings.HasSuffix(rest, u) {
		return strings.TrimSuffix(rest, u)
	}
	return rest
}

func isSpace(s string) bool { return strings.TrimLeft(s, " \t\r\n") == "" }

// afterSameLineComment returns the offset after the comments that follow i
// on the same line, or i.
func (f layout) afterSameLineComment(i int) int {
	for {
		j := i
		for j < len(f.src) && (f.src[j] == ' ' || f.src[j] == '\t') {
			j++
		}
		if j+1 >= len(f.src) || f.src[j] != '/' || (f.src[j+1] != '/' && f.src[j+1] != '*') {
			return i
		}
		end := commentEnd(f.src, j)
		if end < 0 || bytes.Contains(f.src[j:end], []byte("\n")) {
			return i
		}
		i = end
	}
}

// lastCommentEnd returns the end of the last comment in src[from:to] (which
// holds only whitespace and comments), or -1.
func lastCommentEnd(src []byte, from, to int) int {
	end, _ := lastComment(src, from, to)
	return end
}

// lastComment is lastCommentEnd that also tells whether the comment is a
// line comment, which its newline must keep terminating.
func lastComment(src []byte, from, to int) (end int, line bool) {
	end = -1
	for i := from; i < to; {
		if src[i] == '/' && i+1 < to && (src[i+1] == '/' || src[i+1] == '*') {
			e := commentEnd(src, i)
			if e < 0 || e > to {
				return end, line
			}
			end, line = e, src[i+1] == '/'
			i = e
			continue
		}
		i++
	}
	return end, line
}

func splice(src []byte, from, to int, text string) []byte {
	out := make([]byte, 0, len(src)-(to-from)+len(text))
	out = append(out, src[:from]...)
	out = append(out, text...)
	return append(out, src[to:]...)
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonScalar renders a field value on one line.
func jsonScalar(v any) string {
	switch v := v.(type) {
	case string:
		return jsonString(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = jsonString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case map[string]string:
		if len(v) == 0 {
			return "{}"
		}
	}
	panic(fmt.Sprintf("clients: no JSON rendering for %T", v)) // the entry table holds only the types above
}
