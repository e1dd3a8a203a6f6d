package clients

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlEditor edits Codex's config.toml. Our entry is the standard table
// [mcp_servers.tapedeck] (with any sub-tables), found with go-toml's parser
// and spliced as lines: a new table is appended after the last line, one
// blank line before it, and removing it deletes exactly that text.
type tomlEditor struct {
	servers string // "mcp_servers"
}

func tomlError(err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return &SyntaxError{Line: row, Column: col, Msg: de.Error()}
	}
	return &SyntaxError{Line: 1, Column: 1, Msg: err.Error()}
}

func (e tomlEditor) decode(data []byte) (any, error) {
	var v map[string]any
	if err := toml.Unmarshal(data, &v); err != nil {
		return nil, tomlError(err)
	}
	return v, nil
}

// tomlTable is where our table is: its header line and its last line with
// content, or header 0 when it is absent.
type tomlTable struct {
	header, last int
	// elsewhere is set when our entry is defined some other way (an inline
	// table or dotted keys), which this editor does not splice.
	elsewhere bool
	// inlineServers is set when the servers table itself is an inline
	// table, which no [mcp_servers.tapedeck] header may extend.
	inlineServers bool
}

func (e tomlEditor) find(data []byte) (tomlTable, any, error) {
	doc, err := e.decode(data)
	if err != nil {
		return tomlTable{}, nil, err
	}
	var entry any
	if s, ok := doc.(map[string]any)[e.servers]; ok {
		servers, ok := s.(map[string]any)
		if !ok {
			return tomlTable{}, nil, &SyntaxError{Line: 1, Column: 1, Msg: fmt.Sprintf("%q is not a table; edit it by hand", e.servers)}
		}
		entry = servers[EntryKey]
	}
	ours := []string{e.servers, EntryKey}
	l := newLines(data)
	var t tomlTable
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyPath(expr)
			it := expr.Key()
			line := lineOf(data, int(it.Node().Raw.Offset))
			inOurs := hasPrefix(table, ours)
			if expr.Kind == unstable.ArrayTable && inOurs {
				t.elsewhere = true
			}
			if t.header > 0 && t.last == 0 && !inOurs {
				t.last = l.lastContent(t.header, line-1)
			}
			if slices.Equal(table, ours) && expr.Kind == unstable.Table {
				t.header = line
			}
		case unstable.KeyValue:
			full := append(slices.Clone(table), keyPath(expr)...)
			if hasPrefix(full, ours) && !hasPrefix(table, ours) {
				t.elsewhere = true
			}
			if slices.Equal(full, []string{e.servers}) {
				t.inlineServers = true
			}
		}
	}
	if err := p.Error(); err != nil {
		return tomlTable{}, nil, tomlError(err)
	}
	if t.header > 0 && t.last == 0 {
		t.last = l.lastContent(t.header, l.count())
	}
	return t, entry, nil
}

func keyPath(n *unstable.Node) []string {
	var out []string
	it := n.Key()
	for it.Next() {
		out = append(out, string(it.Node().Data))
	}
	return out
}

func hasPrefix(path, prefix []string) bool {
	return len(path) >= len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}

func lineOf(data []byte, off int) int {
	return 1 + strings.Count(string(data[:off]), "\n")
}

// lastContent is the last line in from..to that is neither blank nor a
// comment: comments just above the next table belong to it.
func (l lines) lastContent(from, to int) int {
	for n := to; n > from; n-- {
		t := strings.TrimSpace(l.text(n))
		if t != "" && !strings.HasPrefix(t, "#") {
			return n
		}
	}
	return from
}

func (e tomlEditor) entry(data []byte) (any, bool, error) {
	_, entry, err := e.find(data)
	return entry, entry != nil, err
}

func (e tomlEditor) block(want []field, nl string) string {
	out := []string{"[" + e.servers + "." + EntryKey + "]"}
	for _, f := range want {
		out = append(out, f.key+" = "+jsonScalar(f.value))
	}
	return strings.Join(out, nl)
}

func (e tomlEditor) upsert(data []byte, want []field) ([]byte, error) {
	t, cur, err := e.find(data)
	if err != nil {
		return nil, err
	}
	l := newLines(data)
	if cur != nil {
		if !isOurs(cur) {
			return nil, ErrNotOurs
		}
		if upToDate(cur, want) {
			return data, nil
		}
		if t.elsewhere || t.header == 0 {
			return nil, errInlineTOML
		}
		return splice(data, l.starts[t.header-1], l.end(t.last), e.block(want, l.nl)), nil
	}
	if t.elsewhere {
		return nil, errInlineTOML
	}
	if t.inlineServers {
		return nil, fmt.Errorf("%q is an inline table, which a [%s.%s] table cannot extend; "+
			"write its servers as [%s.NAME] tables, then try again", e.servers, e.servers, EntryKey, e.servers)
	}
	anchor := l.anchorLine()
	var out []byte
	if anchor == 0 {
		out = l.insertAfter(0, e.block(want, l.nl))
	} else {
		out = l.insertAfter(anchor, l.nl+e.block(want, l.nl))
	}
	// TOML has more ways to define a table than are checked above; a
	// result that does not parse is a form this editor does not handle.
	if _, err := e.decode(out); err != nil {
		return nil, fmt.Errorf("cannot add [%s.%s] to this file (%v); add it by hand", e.servers, EntryKey, err)
	}
	return out, nil
}

var errInlineTOML = errors.New("Tapedeck's entry is written as an inline table or dotted keys; " +
	"make it a [mcp_servers.tapedeck] table or remove it by hand, then try again")

func (e tomlEditor) remove(data []byte) ([]byte, error) {
	t, cur, err := e.find(data)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return data, nil
	}
	if !isOurs(cur) {
		return nil, ErrNotOurs
	}
	if t.elsewhere || t.header == 0 {
		return nil, errInlineTOML
	}
	l := newLines(data)
	first := t.header
	// The blank line we put before the table goes with it.
	if first > 2 && strings.TrimSpace(l.text(first-1)) == "" {
		first--
	}
	return l.removeLines(first, t.last), nil
}
