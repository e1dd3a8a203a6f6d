package wit

import (
	"fmt"
	"strings"
)

// tokenKind classifies a token of WIT text.
type tokenKind uint8

const (
	tokEOF     tokenKind = iota
	tokIdent             // a kebab-case name, keywords included; %name arrives without the %
	tokVersion           // the semver after an @ that follows a package path
	tokPunct             // one of { } ( ) < > , ; : . / = * or the arrow ->
)

type token struct {
	kind tokenKind
	text string
	// escaped is true for %name: the name is never a keyword.
	escaped bool
	line    int
	col     int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokVersion:
		return "version " + t.text
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer turns WIT text into tokens, dropping comments and annotations
// (@since, @unstable, @deprecated): they do not change types.
type lexer struct {
	src  string
	pos  int
	line int
	col  int
}

func (l *lexer) errorf(line, col int, format string, args ...any) error {
	return fmt.Errorf("%d:%d: %s", line, col, fmt.Sprintf(format, args...))
}

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.pos < len(l.src); i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

// tokens lexes all of src.
func tokenize(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	var out []token
	for {
		t, err := l.next(out)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.kind == tokEOF {
			return out, nil
		}
	}
}

func (l *lexer) skipSpaceAndComments() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.advance(1)
		case strings.HasPrefix(l.src[l.pos:], "//"):
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				end = len(l.src) - l.pos
			}
			l.advance(end)
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			line, col := l.line, l.col
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errorf(line, col, "unterminated block comment")
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isVersionByte(c byte) bool {
	return isIdentByte(c) || c == '.' || c == '+'
}

// next returns the next token; prev is what came before, which decides
// whether an @ starts a version (after a package path) or an annotation.
func (l *lexer) next(prev []token) (token, error) {
	for {
		if err := l.skipSpaceAndComments(); err != nil {
			return token{}, err
		}
		if l.pos >= len(l.src) {
			return token{kind: tokEOF, line: l.line, col: l.col}, nil
		}
		line, col := l.line, l.col
		c := l.src[l.pos]
		switch {
		case c == '@':
			l.advance(1)
			if l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
				start := l.pos
				for l.pos < len(l.src) && isVersionByte(l.src[l.pos]) {
					l.advance(1)
				}
				// "wasi:io/poll@0.2.0.{pollable}": the dot before { belongs to the use.
				end := l.pos
				if l.src[end-1] == '.' {
					end--
					l.pos--
					l.col--
				}
				return token{kind: tokVersion, text: l.src[start:end], line: line, col: col}, nil
			}
			if err := l.skipAnnotation(line, col); err != nil {
				return token{}, err
			}
			continue
		case c == '%' || isIdentByte(c) && c != '-':
			escaped := c == '%'
			if escaped {
				l.advance(1)
			}
			start := l.pos
			for l.pos < len(l.src) && isIdentByte(l.src[l.pos]) {
				l.advance(1)
			}
			if l.pos == start {
				return token{}, l.errorf(line, col, "%% must be followed by a name")
			}
			return token{kind: tokIdent, text: l.src[start:l.pos], escaped: escaped, line: line, col: col}, nil
		case strings.HasPrefix(l.src[l.pos:], "->"):
			l.advance(2)
			return token{kind: tokPunct, text: "->", line: line, col: col}, nil
		case strings.IndexByte("{}()<>,;:./=*_", c) >= 0:
			l.advance(1)
			return token{kind: tokPunct, text: string(c), line: line, col: col}, nil
		default:
			return token{}, l.errorf(line, col, "unexpected character %q", c)
		}
	}
}

// skipAnnotation skips "name" or "name(…)" after an @.
func (l *lexer) skipAnnotation(line, col int) error {
	start := l.pos
	for l.pos < len(l.src) && isIdentByte(l.src[l.pos]) {
		l.advance(1)
	}
	if l.pos == start {
		return l.errorf(line, col, "@ must be followed by a version or an annotation name")
	}
	if err := l.skipSpaceAndComments(); err != nil {
		return err
	}
	if l.pos >= len(l.src) || l.src[l.pos] != '(' {
		return nil
	}
	end := strings.IndexByte(l.src[l.pos:], ')')
	if end < 0 {
		return l.errorf(line, col, "unterminated annotation")
	}
	l.advance(end + 1)
	return nil
}
