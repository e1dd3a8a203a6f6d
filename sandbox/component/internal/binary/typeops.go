package binary

import (
	"strings"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Component value types share subtrees (a type index used twice is one
// *types.Type), so a small binary can describe a type whose tree is
// exponentially large. Every walk over types here is therefore memoized per
// *types.Type, and work that cannot be memoized (substitution, matching)
// spends from the decoder's budget.

// maxElemSize is the bound on a value type's size in memory (Binary.md:
// elem_size(t) must be less than 2^28).
const maxElemSize = 1 << 28

// maxTypeDepth bounds the nesting of value types; WIT types are shallow, and
// the bound keeps recursion over types shallow too.
const maxTypeDepth = 100

// typeFacts caches what validation asks of value types.
type typeFacts struct {
	size, align uint64
	flat        uint64 // number of flattened core values, saturated at maxFlatCount
	depth       int
	hasString   bool // contains a string or list (needs memory / realloc)
	hasBorrow   bool
}

const maxFlatCount = 1 << 20

func satAdd(a, b uint64) uint64 {
	if a+b > maxElemSize*2 || a+b < a {
		return maxElemSize * 2
	}
	return a + b
}

func alignTo(n, a uint64) uint64 { return (n + a - 1) / a * a }

// facts returns (and caches) the facts about t.
func (d *decoder) facts(t *types.Type) *typeFacts {
	if f, ok := d.factCache[t]; ok {
		return f
	}
	f := &typeFacts{}
	child := func(c *types.Type) *typeFacts {
		if c == nil {
			return &typeFacts{size: 0, align: 1}
		}
		cf := d.facts(c)
		f.depth = max(f.depth, cf.depth)
		f.hasString = f.hasString || cf.hasString
		f.hasBorrow = f.hasBorrow || cf.hasBorrow
		return cf
	}
	switch t.Kind {
	case types.Bool, types.S8, types.U8:
		f.size, f.align, f.flat = 1, 1, 1
	case types.S16, types.U16:
		f.size, f.align, f.flat = 2, 2, 1
	case types.S32, types.U32, types.F32, types.Char, types.Own:
		f.size, f.align, f.flat = 4, 4, 1
	case types.Borrow:
		f.size, f.align, f.flat = 4, 4, 1
		f.hasBorrow = true
	case types.S64, types.U64, types.F64:
		f.size, f.align, f.flat = 8, 8, 1
	case types.String:
		f.size, f.align, f.flat = 8, 4, 2
		f.hasString = true
	case types.List:
		child(t.Elem)
		f.size, f.align, f.flat = 8, 4, 2
		f.hasString = true
	case types.Record, types.Tuple:
		f.align = 1
		for _, fl := range t.Fields {
			cf := child(fl.Type)
			f.align = max(f.align, cf.align)
		}
		for _, fl := range t.Fields {
			cf := d.facts(fl.Type)
			f.size = satAdd(alignTo(f.size, cf.align), cf.size)
			f.flat = min(f.flat+cf.flat, maxFlatCount)
		}
		f.size = alignTo(f.size, f.align)
	case types.Variant, types.Option, types.Result, types.Enum:
		var cases []*types.Type
		switch t.Kind {
		case types.Variant:
			for _, c := range t.Cases {
				cases = append(cases, c.Type)
			}
		case types.Option:
			cases = []*types.Type{nil, t.Elem}
		case types.Result:
			cases = []*types.Type{t.OK, t.Err}
		case types.Enum:
			cases = make([]*types.Type, len(t.Labels))
		}
		disc := uint64(4)
		switch n := len(cases); {
		case n <= 1<<8:
			disc = 1
		case n <= 1<<16:
			disc = 2
		}
		f.align = disc
		var payload, flat uint64
		for _, c := range cases {
			cf := child(c)
			f.align = max(f.align, cf.align)
			payload = max(payload, cf.size)
			flat = max(flat, cf.flat)
		}
		caseAlign := uint64(1)
		for _, c := range cases {
			if c != nil {
				caseAlign = max(caseAlign, d.facts(c).align)
			}
		}
		f.size = alignTo(satAdd(alignTo(disc, caseAlign), payload), f.align)
		f.flat = min(1+flat, maxFlatCount)
	case types.Flags:
		n := len(t.Labels)
		switch {
		case n <= 8:
			f.size = 1
		case n <= 16:
			f.size = 2
		default:
			f.size = 4
		}
		f.align, f.flat = f.size, 1
	}
	f.depth++
	d.factCache[t] = f
	return f
}

// substituter replaces resources in types: the instantiation of a component
// or instance type with the resources its imports were given, or with fresh
// ones. Types that mention none of the replaced resources are returned as
// they are, so substitution allocates only what changes.
type substituter struct {
	d    *decoder
	m    map[*types.Resource]*types.Resource
	memo map[*types.Type]*types.Type
}

func (d *decoder) newSubst(m map[*types.Resource]*types.Resource) *substituter {
	return &substituter{d: d, m: m, memo: make(map[*types.Type]*types.Type)}
}

func (s *substituter) typ(t *types.Type) *types.Type {
	if t == nil || len(s.m) == 0 {
		return t
	}
	if u, ok := s.memo[t]; ok {
		return u
	}
	s.d.spend(1)
	u := t
	switch t.Kind {
	case types.Own, types.Borrow:
		if r, ok := s.m[t.Resource]; ok {
			c := *t
			c.Resource = r
			u = &c
		}
	case types.List, types.Option:
		if e := s.typ(t.Elem); e != t.Elem {
			c := *t
			c.Elem = e
			u = &c
		}
	case types.Result:
		ok, err := s.typ(t.OK), s.typ(t.Err)
		if ok != t.OK || err != t.Err {
			c := *t
			c.OK, c.Err = ok, err
			u = &c
		}
	case types.Record, types.Tuple:
		var fields []types.Field
		for i, f := range t.Fields {
			if ft := s.typ(f.Type); ft != f.Type {
				if fields == nil {
					fields = append([]types.Field(nil), t.Fields...)
				}
				fields[i].Type = ft
			}
		}
		if fields != nil {
			c := *t
			c.Fields = fields
			u = &c
		}
	case types.Variant:
		var cases []types.Case
		for i, cs := range t.Cases {
			if ct := s.typ(cs.Type); ct != cs.Type {
				if cases == nil {
					cases = append([]types.Case(nil), t.Cases...)
				}
				cases[i].Type = ct
			}
		}
		if cases != nil {
			c := *t
			c.Cases = cases
			u = &c
		}
	}
	s.memo[t] = u
	return u
}

func (s *substituter) fn(f *types.Func) *types.Func {
	if f == nil || len(s.m) == 0 {
		return f
	}
	params, pc := s.params(f.Params)
	results, rc := s.params(f.Results)
	if !pc && !rc {
		return f
	}
	return &types.Func{Params: params, Results: results}
}

func (s *substituter) params(ps []types.Param) ([]types.Param, bool) {
	var out []types.Param
	for i, p := range ps {
		if t := s.typ(p.Type); t != p.Type {
			if out == nil {
				out = append([]types.Param(nil), ps...)
			}
			out[i].Type = t
		}
	}
	if out == nil {
		return ps, false
	}
	return out, true
}

func (s *substituter) resource(r *types.Resource) *types.Resource {
	if u, ok := s.m[r]; ok {
		return u
	}
	return r
}

func (s *substituter) externs(es []Extern) []Extern {
	out := make([]Extern, len(es))
	for i, e := range es {
		out[i] = Extern{Name: e.Name, Type: s.extern(e.Type)}
	}
	return out
}

func (s *substituter) extern(e ExternType) ExternType {
	if len(s.m) == 0 {
		return e
	}
	s.d.spend(1)
	switch e.Kind {
	case KindFunc:
		e.Func = s.fn(e.Func)
	case KindType:
		if e.Resource != nil {
			e.Resource = s.resource(e.Resource)
		} else {
			e.Type = s.typ(e.Type)
		}
	case KindInstance:
		e.Instance = s.instance(e.Instance)
	case KindComponent:
		c := e.Component
		e.Component = &ComponentType{
			Imports:  s.externs(c.Imports),
			Exports:  s.externs(c.Exports),
			imported: c.imported,
			exported: c.exported,
		}
	}
	return e
}

func (s *substituter) instance(t *InstanceType) *InstanceType {
	return (&InstanceType{Exports: s.externs(t.Exports), resources: s.resources(t.resources)}).indexExports()
}

func (s *substituter) resources(rs []*types.Resource) []*types.Resource {
	out := make([]*types.Resource, len(rs))
	for i, r := range rs {
		out[i] = s.resource(r)
	}
	return out
}

// equal reports whether two value types are equal (types.Equal, memoized).
func (d *decoder) equal(a, b *types.Type) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.Kind != b.Kind {
		return false
	}
	key := [2]*types.Type{a, b}
	if eq, ok := d.eqCache[key]; ok {
		return eq
	}
	d.spend(1)
	eq := true
	switch a.Kind {
	case types.List, types.Option:
		eq = d.equal(a.Elem, b.Elem)
	case types.Record, types.Tuple:
		eq = len(a.Fields) == len(b.Fields)
		for i := 0; eq && i < len(a.Fields); i++ {
			eq = a.Fields[i].Name == b.Fields[i].Name && d.equal(a.Fields[i].Type, b.Fields[i].Type)
		}
	case types.Variant:
		eq = len(a.Cases) == len(b.Cases)
		for i := 0; eq && i < len(a.Cases); i++ {
			eq = a.Cases[i].Name == b.Cases[i].Name && d.equal(a.Cases[i].Type, b.Cases[i].Type)
		}
	case types.Enum, types.Flags:
		eq = len(a.Labels) == len(b.Labels)
		for i := 0; eq && i < len(a.Labels); i++ {
			eq = a.Labels[i] == b.Labels[i]
		}
	case types.Result:
		eq = d.equal(a.OK, b.OK) && d.equal(a.Err, b.Err)
	case types.Own, types.Borrow:
		eq = a.Resource == b.Resource
	}
	d.eqCache[key] = eq
	return eq
}

func (d *decoder) equalFunc(a, b *types.Func) bool {
	return d.equalParams(a.Params, b.Params) && d.equalParams(a.Results, b.Results)
}

func (d *decoder) equalParams(a, b []types.Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !d.equal(a[i].Type, b[i].Type) {
			return false
		}
	}
	return true
}

// resourcesIn calls fn for every resource an extern type mentions.
func (d *decoder) resourcesIn(e ExternType, fn func(*types.Resource)) {
	seen := make(map[*types.Type]bool)
	var walk func(t *types.Type)
	walk = func(t *types.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		d.spend(1)
		switch t.Kind {
		case types.Own, types.Borrow:
			fn(t.Resource)
		case types.List, types.Option:
			walk(t.Elem)
		case types.Result:
			walk(t.OK)
			walk(t.Err)
		case types.Record, types.Tuple:
			for _, f := range t.Fields {
				walk(f.Type)
			}
		case types.Variant:
			for _, c := range t.Cases {
				walk(c.Type)
			}
		}
	}
	var ext func(e ExternType)
	ext = func(e ExternType) {
		switch e.Kind {
		case KindFunc:
			for _, p := range e.Func.Params {
				walk(p.Type)
			}
			for _, p := range e.Func.Results {
				walk(p.Type)
			}
		case KindType:
			if e.Resource != nil {
				fn(e.Resource)
			} else {
				walk(e.Type)
			}
		case KindInstance:
			for _, x := range e.Instance.Exports {
				ext(x.Type)
			}
		case KindComponent:
			for _, x := range e.Component.Imports {
				ext(x.Type)
			}
			for _, x := range e.Component.Exports {
				ext(x.Type)
			}
		}
	}
	ext(e)
}

// maxTypeText bounds the text of a type in an error message: a shared
// subtree printed in full could be exponentially long.
const maxTypeText = 300

// typeText prints t in WIT syntax, cut short with "…" past maxTypeText bytes.
func typeText(t *types.Type) string {
	var w cappedWriter
	w.typ(t)
	return w.String()
}

// funcText prints f in WIT syntax, cut short like typeText.
func funcText(f *types.Func) string {
	var w cappedWriter
	w.fn(f)
	return w.String()
}

type cappedWriter struct {
	strings.Builder
	full bool
}

func (w *cappedWriter) put(s string) {
	if w.full {
		return
	}
	if w.Len()+len(s) > maxTypeText {
		w.WriteString("…")
		w.full = true
		return
	}
	w.WriteString(s)
}

func (w *cappedWriter) typ(t *types.Type) {
	if w.full {
		return
	}
	if t == nil {
		w.put("_")
		return
	}
	if t.Name != "" && (t.Kind == types.Record || t.Kind == types.Variant || t.Kind == types.Enum || t.Kind == types.Flags) {
		w.put(t.Name)
		return
	}
	switch t.Kind {
	case types.List, types.Option:
		w.put(t.Kind.String() + "<")
		w.typ(t.Elem)
		w.put(">")
	case types.Result:
		w.put("result")
		if t.OK != nil || t.Err != nil {
			w.put("<")
			w.typ(t.OK)
			w.put(", ")
			w.typ(t.Err)
			w.put(">")
		}
	case types.Own, types.Borrow:
		w.put(t.Kind.String() + "<" + t.Resource.Name + ">")
	case types.Tuple, types.Record:
		w.put(t.Kind.String() + "<")
		for i, f := range t.Fields {
			if i > 0 {
				w.put(", ")
			}
			if f.Name != "" {
				w.put(f.Name + ": ")
			}
			w.typ(f.Type)
		}
		w.put(">")
	case types.Variant:
		w.put("variant<")
		for i, c := range t.Cases {
			if i > 0 {
				w.put(", ")
			}
			w.put(c.Name)
			if c.Type != nil {
				w.put("(")
				w.typ(c.Type)
				w.put(")")
			}
		}
		w.put(">")
	case types.Enum, types.Flags:
		w.put(t.Kind.String() + "<" + strings.Join(t.Labels, ", ") + ">")
	default:
		w.put(t.Kind.String())
	}
}

func (w *cappedWriter) fn(f *types.Func) {
	w.put("func(")
	for i, p := range f.Params {
		if i > 0 {
			w.put(", ")
		}
		w.put(p.Name + ": ")
		w.typ(p.Type)
	}
	w.put(")")
	switch {
	case len(f.Results) == 1 && f.Results[0].Name == "":
		w.put(" -> ")
		w.typ(f.Results[0].Type)
	case len(f.Results) > 0:
		w.put(" -> (")
		for i, p := range f.Results {
			if i > 0 {
				w.put(", ")
			}
			w.put(p.Name + ": ")
			w.typ(p.Type)
		}
		w.put(")")
	}
}

// article returns s with its indefinite article: "a func", "an instance".
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
