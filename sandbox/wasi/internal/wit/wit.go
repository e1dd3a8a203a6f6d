// Package wit reads the subset of the WIT language that the WASI 0.2
// interface definitions are written in, and resolves it to the component
// types of package types: one *types.Func per function, under the name a
// component imports it by ("get-stdout", "[method]output-stream.write",
// "[static]fields.from-list", "[constructor]fields").
//
// The subset: package declarations, interfaces (worlds are skipped), use
// (within a package and across packages, with "as"), type aliases, record,
// variant, enum, flags, resource (constructor, methods, static functions) and
// functions with at most one unnamed result. Comments and annotations
// (@since, @unstable, @deprecated) are dropped.
//
// A resource is defined once, by the interface that declares it; every use of
// it, in any interface, resolves to the same *types.Resource, which is what
// the Component Model's type check compares.
package wit

import (
	"fmt"
	"sort"
	"strings"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Interface is one resolved interface.
type Interface struct {
	// ID is "ns:pkg/iface@version", such as "wasi:io/streams@0.2.12".
	ID string
	// Package is "ns:pkg"; Name is the interface name; Version the package version.
	Package, Name, Version string
	// Resources are the resource types visible in the interface by the name
	// used there: those it defines and those it uses from others.
	Resources map[string]*types.Resource
	// Types are the named value types visible in the interface (defined or used).
	Types map[string]*types.Type
	// Funcs are the interface's functions by component-level name.
	Funcs map[string]*types.Func
}

// FuncNames returns the names of i's functions, sorted.
func (i *Interface) FuncNames() []string {
	names := make([]string, 0, len(i.Funcs))
	for n := range i.Funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load parses files (name → WIT text; names are used in error messages only)
// and resolves every interface in them. The result is keyed by
// "ns:pkg/iface" without a version: one version of each package is loaded,
// and a use's version is not checked against it.
func Load(files map[string]string) (map[string]*Interface, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)

	r := &resolver{
		decls:    map[string]*interfaceDecl{},
		entities: map[string]map[string]*entity{},
		busy:     map[string]bool{},
	}
	for _, n := range names {
		decls, err := parseFile(files[n])
		if err != nil {
			return nil, fmt.Errorf("wit: %s:%w", n, err)
		}
		for _, d := range decls {
			key := d.pkg + "/" + d.name
			if _, dup := r.decls[key]; dup {
				return nil, fmt.Errorf("wit: %s: interface %s is defined twice", n, key)
			}
			r.decls[key] = d
		}
	}

	keys := make([]string, 0, len(r.decls))
	for k := range r.decls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]*Interface, len(keys))
	for _, k := range keys {
		iface, err := r.resolveInterface(k)
		if err != nil {
			return nil, fmt.Errorf("wit: interface %s: %w", k, err)
		}
		out[k] = iface
	}
	return out, nil
}

// entity is what a type name stands for: a resource or a value type.
type entity struct {
	res *types.Resource
	typ *types.Type
}

type resolver struct {
	decls    map[string]*interfaceDecl
	entities map[string]map[string]*entity // interface key → name → entity
	busy     map[string]bool               // "key#name" being resolved: a cycle if met again
}

func (r *resolver) resolveInterface(key string) (*Interface, error) {
	d := r.decls[key]
	iface := &Interface{
		ID:        key + "@" + d.version,
		Package:   d.pkg,
		Name:      d.name,
		Version:   d.version,
		Resources: map[string]*types.Resource{},
		Types:     map[string]*types.Type{},
		Funcs:     map[string]*types.Func{},
	}
	seen := map[string]bool{}
	declare := func(name string, line, col int) error {
		if seen[name] {
			return fmt.Errorf("%d:%d: %s is declared twice", line, col, name)
		}
		seen[name] = true
		return nil
	}
	for _, u := range d.uses {
		if err := declare(u.as, u.line, u.col); err != nil {
			return nil, err
		}
	}
	for _, t := range d.types {
		if err := declare(t.name, t.line, t.col); err != nil {
			return nil, err
		}
	}
	for name := range seen {
		e, err := r.lookup(key, name)
		if err != nil {
			return nil, err
		}
		if e.res != nil {
			iface.Resources[name] = e.res
		} else {
			iface.Types[name] = e.typ
		}
	}

	addFunc := func(name string, line int, f *types.Func) error {
		if _, dup := iface.Funcs[name]; dup {
			return fmt.Errorf("line %d: function %s is declared twice", line, name)
		}
		iface.Funcs[name] = f
		return nil
	}
	for _, f := range d.funcs {
		if seen[f.name] {
			return nil, fmt.Errorf("line %d: %s is both a type and a function", f.line, f.name)
		}
		ft, err := r.funcType(key, f, nil)
		if err != nil {
			return nil, err
		}
		if err := addFunc(f.name, f.line, ft); err != nil {
			return nil, err
		}
	}
	for _, t := range d.types {
		if t.kind != "resource" {
			continue
		}
		res := iface.Resources[t.name]
		for _, f := range t.funcs {
			ft, err := r.funcType(key, f, res)
			if err != nil {
				return nil, err
			}
			var name string
			switch f.kind {
			case constructorFunc:
				name = "[constructor]" + t.name
			case staticFunc:
				name = "[static]" + t.name + "." + f.name
			default:
				name = "[method]" + t.name + "." + f.name
			}
			if err := addFunc(name, f.line, ft); err != nil {
				return nil, err
			}
		}
	}
	return iface, nil
}

// funcType resolves a function; res is the resource it belongs to, if any.
func (r *resolver) funcType(key string, f funcDecl, res *types.Resource) (*types.Func, error) {
	ft := &types.Func{}
	if f.kind == methodFunc {
		ft.Params = append(ft.Params, types.Param{Name: "self", Type: types.BorrowOf(res)})
	}
	names := map[string]bool{}
	for _, p := range f.params {
		if names[p.name] {
			return nil, fmt.Errorf("line %d: parameter %s is declared twice", f.line, p.name)
		}
		names[p.name] = true
		t, err := r.valueType(key, p.typ)
		if err != nil {
			return nil, err
		}
		ft.Params = append(ft.Params, types.Param{Name: p.name, Type: t})
	}
	switch {
	case f.kind == constructorFunc:
		ft.Results = []types.Param{{Type: types.OwnOf(res)}}
	case f.results != nil:
		t, err := r.valueType(key, f.results)
		if err != nil {
			return nil, err
		}
		ft.Results = []types.Param{{Type: t}}
	}
	return ft, nil
}

// lookup resolves a name as seen from interface key.
func (r *resolver) lookup(key, name string) (*entity, error) {
	if e := r.entities[key][name]; e != nil {
		return e, nil
	}
	d := r.decls[key]
	if d == nil {
		return nil, fmt.Errorf("no interface %s", key)
	}
	busy := key + "#" + name
	if r.busy[busy] {
		return nil, fmt.Errorf("type %s in %s refers to itself", name, key)
	}
	r.busy[busy] = true
	defer delete(r.busy, busy)

	e, err := r.define(key, d, name)
	if err != nil {
		return nil, err
	}
	if r.entities[key] == nil {
		r.entities[key] = map[string]*entity{}
	}
	r.entities[key][name] = e
	return e, nil
}

func (r *resolver) define(key string, d *interfaceDecl, name string) (*entity, error) {
	for _, u := range d.uses {
		if u.as != name {
			continue
		}
		from := u.from
		if !strings.Contains(from, ":") {
			from = d.pkg + "/" + from
		}
		if r.decls[from] == nil {
			return nil, fmt.Errorf("%d:%d: use of unknown interface %s", u.line, u.col, from)
		}
		e, err := r.lookup(from, u.name)
		if err != nil {
			return nil, fmt.Errorf("%d:%d: use %s.%s: %w", u.line, u.col, from, u.name, err)
		}
		return e, nil
	}
	for _, t := range d.types {
		if t.name == name {
			return r.typeDecl(key, d, t)
		}
	}
	return nil, fmt.Errorf("unknown type %s", name)
}

func (r *resolver) typeDecl(key string, d *interfaceDecl, t *typeDecl) (*entity, error) {
	at := func(err error) error { return fmt.Errorf("%d:%d: %s %s: %w", t.line, t.col, t.kind, t.name, err) }
	switch t.kind {
	case "resource":
		return &entity{res: &types.Resource{Name: t.name, Interface: key + "@" + d.version}}, nil
	case "type":
		if !t.alias.hasArgs && !isBuiltin(t.alias) {
			// An alias of a named type is that type, resource or not.
			e, err := r.lookup(key, t.alias.name)
			if err != nil {
				return nil, at(err)
			}
			return e, nil
		}
		typ, err := r.valueType(key, t.alias)
		if err != nil {
			return nil, at(err)
		}
		return &entity{typ: typ}, nil
	case "enum", "flags":
		if err := distinct(t.labels); err != nil {
			return nil, at(err)
		}
		if t.kind == "flags" && len(t.labels) > 32 {
			return nil, at(fmt.Errorf("%d flags; the Component Model allows 32", len(t.labels)))
		}
		kind := types.Enum
		if t.kind == "flags" {
			kind = types.Flags
		}
		return &entity{typ: &types.Type{Kind: kind, Labels: t.labels, Name: t.name}}, nil
	}
	names := make([]string, len(t.fields))
	for i, f := range t.fields {
		names[i] = f.name
	}
	if err := distinct(names); err != nil {
		return nil, at(err)
	}
	if t.kind == "record" {
		typ := &types.Type{Kind: types.Record, Name: t.name}
		for _, f := range t.fields {
			ft, err := r.valueType(key, f.typ)
			if err != nil {
				return nil, at(err)
			}
			typ.Fields = append(typ.Fields, types.Field{Name: f.name, Type: ft})
		}
		return &entity{typ: typ}, nil
	}
	typ := &types.Type{Kind: types.Variant, Name: t.name}
	for _, c := range t.fields {
		var ct *types.Type
		if c.typ != nil {
			var err error
			if ct, err = r.valueType(key, c.typ); err != nil {
				return nil, at(err)
			}
		}
		typ.Cases = append(typ.Cases, types.Case{Name: c.name, Type: ct})
	}
	return &entity{typ: typ}, nil
}

func distinct(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return fmt.Errorf("%s appears twice", n)
		}
		seen[n] = true
	}
	return nil
}

var primitives = map[string]*types.Type{
	"bool": types.BoolType, "s8": types.S8Type, "u8": types.U8Type, "s16": types.S16Type,
	"u16": types.U16Type, "s32": types.S32Type, "u32": types.U32Type, "s64": types.S64Type,
	"u64": types.U64Type, "f32": types.F32Type, "f64": types.F64Type, "char": types.CharType,
	"string": types.StringType,
}

// arity is the number of type arguments of each type constructor (-1: any, at least one).
var arity = map[string]int{"list": 1, "option": 1, "result": 2, "tuple": -1, "borrow": 1, "own": 1}

func isBuiltin(e *typeExpr) bool {
	if e.escaped {
		return false
	}
	_, prim := primitives[e.name]
	_, ctor := arity[e.name]
	return prim || ctor
}

// valueType resolves a type expression in interface key.
func (r *resolver) valueType(key string, e *typeExpr) (*types.Type, error) {
	at := func(format string, args ...any) error {
		return fmt.Errorf("%d:%d: %s", e.line, e.col, fmt.Sprintf(format, args...))
	}
	if !isBuiltin(e) {
		if e.hasArgs {
			return nil, at("%s takes no type arguments", e.name)
		}
		ent, err := r.lookup(key, e.name)
		if err != nil {
			return nil, at("%v", err)
		}
		if ent.res != nil {
			return types.OwnOf(ent.res), nil
		}
		return ent.typ, nil
	}
	if p, ok := primitives[e.name]; ok {
		if e.hasArgs {
			return nil, at("%s takes no type arguments", e.name)
		}
		return p, nil
	}
	n := arity[e.name]
	switch {
	case e.name == "result" && !e.hasArgs:
		return types.ResultOf(nil, nil), nil
	case e.name == "result" && (len(e.args) == 1 || len(e.args) == 2):
	case n == -1 && len(e.args) >= 1:
	case len(e.args) != n:
		return nil, at("%s takes %d type argument(s), found %d", e.name, n, len(e.args))
	}
	args := make([]*types.Type, len(e.args))
	for i, a := range e.args {
		if a == nil {
			if e.name != "result" || i != 0 {
				return nil, at("_ stands only for result's ok type")
			}
			continue
		}
		if e.name == "borrow" || e.name == "own" {
			if isBuiltin(a) {
				return nil, at("%s<%s>: %s is not a resource", e.name, a.name, a.name)
			}
			ent, err := r.lookup(key, a.name)
			if err != nil {
				return nil, at("%v", err)
			}
			if ent.res == nil || a.hasArgs {
				return nil, at("%s<%s>: %s is not a resource", e.name, a.name, a.name)
			}
			if e.name == "borrow" {
				return types.BorrowOf(ent.res), nil
			}
			return types.OwnOf(ent.res), nil
		}
		t, err := r.valueType(key, a)
		if err != nil {
			return nil, err
		}
		args[i] = t
	}
	switch e.name {
	case "list":
		return types.ListOf(args[0]), nil
	case "option":
		return types.OptionOf(args[0]), nil
	case "tuple":
		return types.TupleOf(args...), nil
	}
	if len(args) == 1 {
		if args[0] == nil {
			return nil, at("result<_> is written result")
		}
		return types.ResultOf(args[0], nil), nil
	}
	return types.ResultOf(args[0], args[1]), nil
}
