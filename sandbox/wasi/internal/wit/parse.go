package wit

import (
	"fmt"
	"strings"
)

// The syntax tree: what one interface declares, before names are resolved.

type typeExpr struct {
	line, col int
	name      string      // a primitive, a constructor (list, option, result, tuple, borrow, own) or a named type
	escaped   bool        // written %name: always a named type
	args      []*typeExpr // type arguments; nil entries stand for "_" in result<_, E>
	hasArgs   bool        // written with <…>
}

type paramDecl struct {
	name string
	typ  *typeExpr
}

type funcDecl struct {
	line    int
	name    string // WIT name; "" for a constructor
	kind    funcKind
	params  []paramDecl
	results *typeExpr // nil when the function returns nothing
}

type funcKind uint8

const (
	freeFunc funcKind = iota
	methodFunc
	staticFunc
	constructorFunc
)

type typeDecl struct {
	line, col int
	name      string
	kind      string // "type" (alias), "record", "variant", "enum", "flags", "resource"
	alias     *typeExpr
	fields    []paramDecl // record fields, variant cases (typ nil when no payload)
	labels    []string    // enum and flags
	funcs     []funcDecl  // resource functions
}

type useDecl struct {
	line, col int
	from      string // "ns:pkg/iface" or "iface" within the same package
	name      string // the name in the other interface
	as        string // the name here
}

type interfaceDecl struct {
	pkg, version string
	name         string
	uses         []useDecl
	types        []*typeDecl
	funcs        []funcDecl
}

// parser reads one file.
type parser struct {
	toks []token
	pos  int
	pkg  string // "ns:name"
	ver  string
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) take() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("%d:%d: %s", t.line, t.col, fmt.Sprintf(format, args...))
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *parser) isKeyword(s string) bool {
	t := p.peek()
	return t.kind == tokIdent && !t.escaped && t.text == s
}

func (p *parser) expect(s string) error {
	t := p.take()
	if t.kind == tokPunct && t.text == s || t.kind == tokIdent && !t.escaped && t.text == s {
		return nil
	}
	return p.errorf(t, "expected %q, found %s", s, t)
}

func (p *parser) ident() (string, error) {
	t := p.take()
	if t.kind != tokIdent {
		return "", p.errorf(t, "expected a name, found %s", t)
	}
	if err := checkName(t.text); err != nil {
		return "", p.errorf(t, "%v", err)
	}
	return t.text, nil
}

// checkName enforces WIT's kebab-case: words of letters and digits, each
// starting with a letter, all lower or all upper case, joined by single dashes.
func checkName(s string) error {
	for _, word := range strings.Split(s, "-") {
		if word == "" {
			return fmt.Errorf("name %q has an empty word", s)
		}
		if c := word[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("name %q has a word that does not start with a letter", s)
		}
		if strings.ToLower(word) != word && strings.ToUpper(word) != word {
			return fmt.Errorf("name %q mixes upper and lower case in one word", s)
		}
	}
	return nil
}

// parseFile parses a file: a package declaration, then interfaces (worlds are skipped).
func parseFile(src string) ([]*interfaceDecl, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if err := p.packageDecl(); err != nil {
		return nil, err
	}
	var out []*interfaceDecl
	for p.peek().kind != tokEOF {
		switch {
		case p.isKeyword("interface"):
			p.take()
			iface, err := p.interfaceBody()
			if err != nil {
				return nil, err
			}
			out = append(out, iface)
		case p.isKeyword("world"):
			p.take()
			if _, err := p.ident(); err != nil {
				return nil, err
			}
			if err := p.skipBraces(); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf(p.peek(), "expected interface or world, found %s", p.peek())
		}
	}
	return out, nil
}

func (p *parser) packageDecl() error {
	if err := p.expect("package"); err != nil {
		return err
	}
	ns, err := p.ident()
	if err != nil {
		return err
	}
	if err := p.expect(":"); err != nil {
		return err
	}
	name, err := p.ident()
	if err != nil {
		return err
	}
	p.pkg = ns + ":" + name
	if t := p.peek(); t.kind == tokVersion {
		p.take()
		p.ver = t.text
	} else {
		return p.errorf(t, "package %s needs a version", p.pkg)
	}
	return p.expect(";")
}

func (p *parser) skipBraces() error {
	if err := p.expect("{"); err != nil {
		return err
	}
	for depth := 1; depth > 0; {
		t := p.take()
		switch {
		case t.kind == tokEOF:
			return p.errorf(t, "unterminated block")
		case t.kind == tokPunct && t.text == "{":
			depth++
		case t.kind == tokPunct && t.text == "}":
			depth--
		}
	}
	return nil
}

func (p *parser) interfaceBody() (*interfaceDecl, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	iface := &interfaceDecl{pkg: p.pkg, version: p.ver, name: name}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	for !p.isPunct("}") {
		t := p.peek()
		if t.kind == tokEOF {
			return nil, p.errorf(t, "interface %s is not closed", name)
		}
		switch {
		case p.isKeyword("use"):
			p.take()
			uses, err := p.useDecl()
			if err != nil {
				return nil, err
			}
			iface.uses = append(iface.uses, uses...)
		case p.isKeyword("type"), p.isKeyword("record"), p.isKeyword("variant"),
			p.isKeyword("enum"), p.isKeyword("flags"), p.isKeyword("resource"):
			d, err := p.typeDecl()
			if err != nil {
				return nil, err
			}
			iface.types = append(iface.types, d)
		default:
			f, err := p.namedFunc()
			if err != nil {
				return nil, err
			}
			if f.kind != freeFunc {
				return nil, p.errorf(t, "static function %s outside a resource", f.name)
			}
			iface.funcs = append(iface.funcs, f)
		}
	}
	p.take()
	return iface, nil
}

// useDecl parses what follows "use": a path, a dot, and a list of names.
func (p *parser) useDecl() ([]useDecl, error) {
	start := p.peek()
	first, err := p.ident()
	if err != nil {
		return nil, err
	}
	from := first
	if p.isPunct(":") {
		p.take()
		pkg, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("/"); err != nil {
			return nil, err
		}
		iface, err := p.ident()
		if err != nil {
			return nil, err
		}
		from = first + ":" + pkg + "/" + iface
		if p.peek().kind == tokVersion {
			p.take() // one version of each package is loaded; see Load
		}
	}
	if err := p.expect("."); err != nil {
		return nil, err
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []useDecl
	for !p.isPunct("}") {
		t := p.peek()
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		u := useDecl{line: t.line, col: t.col, from: from, name: name, as: name}
		if p.isKeyword("as") {
			p.take()
			if u.as, err = p.ident(); err != nil {
				return nil, err
			}
		}
		out = append(out, u)
		if !p.isPunct(",") {
			break
		}
		p.take()
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, p.errorf(start, "use of %s names nothing", from)
	}
	return out, p.expect(";")
}

func (p *parser) typeDecl() (*typeDecl, error) {
	kw := p.take()
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	d := &typeDecl{line: kw.line, col: kw.col, name: name, kind: kw.text}
	switch kw.text {
	case "type":
		if err := p.expect("="); err != nil {
			return nil, err
		}
		if d.alias, err = p.typeExpr(); err != nil {
			return nil, err
		}
		return d, p.expect(";")
	case "resource":
		if p.isPunct(";") {
			p.take()
			return d, nil
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		for !p.isPunct("}") {
			if p.peek().kind == tokEOF {
				return nil, p.errorf(p.peek(), "resource %s is not closed", name)
			}
			var f funcDecl
			if p.isKeyword("constructor") {
				t := p.take()
				f = funcDecl{line: t.line, kind: constructorFunc}
				if f.params, err = p.params(); err != nil {
					return nil, err
				}
				if err := p.expect(";"); err != nil {
					return nil, err
				}
			} else {
				if f, err = p.namedFunc(); err != nil {
					return nil, err
				}
				if f.kind == freeFunc {
					f.kind = methodFunc
				}
			}
			d.funcs = append(d.funcs, f)
		}
		p.take()
		if p.isPunct(";") { // "resource r { … };" is not WIT, but harmless
			p.take()
		}
		return d, nil
	}
	// record, variant, enum, flags: a braced, comma-separated list.
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	for !p.isPunct("}") {
		item, err := p.ident()
		if err != nil {
			return nil, err
		}
		switch kw.text {
		case "record":
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			typ, err := p.typeExpr()
			if err != nil {
				return nil, err
			}
			d.fields = append(d.fields, paramDecl{name: item, typ: typ})
		case "variant":
			var typ *typeExpr
			if p.isPunct("(") {
				p.take()
				if typ, err = p.typeExpr(); err != nil {
					return nil, err
				}
				if err := p.expect(")"); err != nil {
					return nil, err
				}
			}
			d.fields = append(d.fields, paramDecl{name: item, typ: typ})
		default:
			d.labels = append(d.labels, item)
		}
		if !p.isPunct(",") {
			break
		}
		p.take()
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	if len(d.fields) == 0 && len(d.labels) == 0 {
		return nil, p.errorf(kw, "%s %s is empty", kw.text, name)
	}
	return d, nil
}

// namedFunc parses "name: [static] func(params) [-> type];".
func (p *parser) namedFunc() (funcDecl, error) {
	t := p.peek()
	name, err := p.ident()
	if err != nil {
		return funcDecl{}, err
	}
	f := funcDecl{line: t.line, name: name}
	if err := p.expect(":"); err != nil {
		return f, err
	}
	if p.isKeyword("static") {
		p.take()
		f.kind = staticFunc
	}
	if err := p.expect("func"); err != nil {
		return f, err
	}
	if f.params, err = p.params(); err != nil {
		return f, err
	}
	if p.isPunct("->") {
		p.take()
		if p.isPunct("(") {
			return f, p.errorf(p.peek(), "named results are not supported (WASI 0.2 does not use them)")
		}
		if f.results, err = p.typeExpr(); err != nil {
			return f, err
		}
	}
	return f, p.expect(";")
}

func (p *parser) params() ([]paramDecl, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []paramDecl
	for !p.isPunct(")") {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		typ, err := p.typeExpr()
		if err != nil {
			return nil, err
		}
		out = append(out, paramDecl{name: name, typ: typ})
		if !p.isPunct(",") {
			break
		}
		p.take()
	}
	return out, p.expect(")")
}

// maxTypeDepth bounds nesting so that hostile text cannot exhaust the stack.
const maxTypeDepth = 64

func (p *parser) typeExpr() (*typeExpr, error) { return p.typeExprDepth(0) }

func (p *parser) typeExprDepth(depth int) (*typeExpr, error) {
	t := p.peek()
	if depth > maxTypeDepth {
		return nil, p.errorf(t, "type nested deeper than %d", maxTypeDepth)
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	e := &typeExpr{line: t.line, col: t.col, name: name, escaped: t.escaped}
	if t.escaped || !p.isPunct("<") {
		return e, nil
	}
	p.take()
	e.hasArgs = true
	for !p.isPunct(">") {
		if p.isPunct("_") {
			p.take()
			e.args = append(e.args, nil)
		} else {
			arg, err := p.typeExprDepth(depth + 1)
			if err != nil {
				return nil, err
			}
			e.args = append(e.args, arg)
		}
		if !p.isPunct(",") {
			break
		}
		p.take()
	}
	return e, p.expect(">")
}
