package jsonbridge

import (
	"fmt"
	"strconv"
	"strings"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Error reports a JSON value that does not fit its component type, or a
// component value that does not fit its type on the way out. Path locates the
// bad part, such as "arguments.items[2].name"; Msg says what was expected and
// what was found, such as `expected string, got number 3`.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// UnrepresentableError reports a type that has no JSON form, such as a
// resource handle. A function with such a parameter or result cannot be
// offered as a tool; Error() is written to be shown as the reason.
type UnrepresentableError struct {
	Path   string      // where the type occurs, such as "arguments.file"
	Type   *types.Type // the offending type
	Reason string      // why it has no JSON form
}

func (e *UnrepresentableError) Error() string {
	return fmt.Sprintf("%s: %s cannot be represented in JSON: %s", e.Path, shortType(e.Type), e.Reason)
}

// path is where a conversion is, as a linked list from the innermost element
// to the root, so that descending costs no allocation of strings and the text
// is built only when an error needs it.
type path struct {
	parent *path
	key    string // object key; empty when this element is an index
	index  int
	root   bool // key is the root's name
}

func rootPath(name string) *path { return &path{key: name, root: true} }

func (p *path) field(name string) *path { return &path{parent: p, key: name} }

func (p *path) at(i int) *path { return &path{parent: p, index: i} }

func (p *path) String() string {
	var parts []*path
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		q := parts[i]
		switch {
		case q.root:
			b.WriteString(q.key)
		case q.key == "":
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(q.index))
			b.WriteByte(']')
		case isPlainKey(q.key):
			b.WriteByte('.')
			b.WriteString(q.key)
		default:
			b.WriteByte('[')
			b.WriteString(quoteShort(q.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (p *path) errorf(format string, args ...any) *Error {
	return &Error{Path: p.String(), Msg: fmt.Sprintf(format, args...)}
}

// isPlainKey reports whether key can follow a dot in a path without
// ambiguity; WIT names always can.
func isPlainKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// maxTypeText bounds how much of a type's WIT text an error message shows;
// an anonymous record or variant prints in full and can be enormous.
const maxTypeText = 80

// shortType renders t in WIT syntax for a message, cut when long.
func shortType(t *types.Type) string {
	s := t.String()
	if len(s) <= maxTypeText {
		return s
	}
	cut := maxTypeText
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// maxQuoted bounds how much of a client's string an error message repeats.
const maxQuoted = 40

// quoteShort quotes s for an error message, cutting it when long.
func quoteShort(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// closest returns the candidate nearest to key by edit distance when it is
// near enough to be a likely typo, for "did you mean" hints.
func closest(key string, candidates []string) (string, bool) {
	// Long keys are not typos of WIT names, and edit distance is quadratic.
	if len(key) > 64 {
		return "", false
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		if len(c) > 64 {
			continue
		}
		d := editDistance(strings.ToLower(key), c)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(key)/3)
	if bestDist < 0 || bestDist > limit {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
