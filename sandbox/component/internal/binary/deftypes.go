package binary

import (
	"strings"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

func (d *decoder) typeDef(r *reader, s *scope) *TypeDef {
	def := &TypeDef{Offset: r.offset(), Index: uint32(len(s.types))}
	if r.peek() == 0x3f {
		r.byte()
		if rep := r.byte(); rep != 0x7f {
			bail(def.Offset, "resource representation %#x is not i32", rep)
		}
		res := &types.Resource{}
		s.defined[res] = true
		def.Type = ExternType{Kind: KindType, Resource: res}
		switch opt := r.byte(); opt {
		case 0x00:
		case 0x01:
			off := r.offset()
			def.Dtor, def.HasDtor = r.u32(), true
			ft := s.coreFunc(off, def.Dtor)
			if !ft.Equal(i32Func) {
				bail(off, "resource destructor core func %d has type %s; it must be (func (param i32))", def.Dtor, ft)
			}
		default:
			bail(def.Offset, "malformed resource destructor option %#x", opt)
		}
	} else {
		def.Type = d.defType(r, s)
	}
	s.types = append(s.types, def.Type)
	return def
}

// defType reads a deftype other than a resource type.
func (d *decoder) defType(r *reader, s *scope) ExternType {
	off := r.offset()
	switch b := r.peek(); b {
	case 0x40:
		r.byte()
		return ExternType{Kind: KindFunc, Func: d.funcType(r, s)}
	case 0x41:
		r.byte()
		return ExternType{Kind: KindComponent, Component: d.componentType(r, s)}
	case 0x42:
		r.byte()
		return ExternType{Kind: KindInstance, Instance: d.instanceType(r, s)}
	case 0x43:
		bailUnsupported(off, "async function type (0x43; the async ABI)")
	case 0x3f:
		bail(off, "resource types cannot be defined inside component or instance types")
	case 0x3e:
		bailUnsupported(off, "resource type with an async destructor (0x3e)")
	}
	t := d.defValType(r, s)
	return ExternType{Kind: KindType, Type: t}
}

// i32 is the core value type of resource representations and handles.
const i32 = api.ValueTypeI32

var primitives = map[byte]*types.Type{
	0x7f: types.BoolType, 0x7e: types.S8Type, 0x7d: types.U8Type, 0x7c: types.S16Type,
	0x7b: types.U16Type, 0x7a: types.S32Type, 0x79: types.U32Type, 0x78: types.S64Type,
	0x77: types.U64Type, 0x76: types.F32Type, 0x75: types.F64Type, 0x74: types.CharType,
	0x73: types.StringType,
}

// defValType reads a defvaltype and checks its size and depth.
func (d *decoder) defValType(r *reader, s *scope) *types.Type {
	off := r.offset()
	b := r.byte()
	if p, ok := primitives[b]; ok {
		return p
	}
	var t *types.Type
	switch b {
	case 0x72:
		n := r.count("record field", 2)
		if n == 0 {
			bail(off, "record type must have at least one field")
		}
		labels := nameSet{}
		t = &types.Type{Kind: types.Record, Fields: make([]types.Field, 0, n)}
		for range n {
			name := d.label(r, labels, "record field")
			t.Fields = append(t.Fields, types.Field{Name: name, Type: d.valType(r, s)})
		}
	case 0x71:
		n := r.count("variant case", 3)
		if n == 0 {
			bail(off, "variant type must have at least one case")
		}
		labels := nameSet{}
		t = &types.Type{Kind: types.Variant, Cases: make([]types.Case, 0, n)}
		for range n {
			c := types.Case{Name: d.label(r, labels, "variant case")}
			c.Type = d.optValType(r, s)
			if refines := r.byte(); refines != 0 {
				bail(off, "variant case %q uses `refines` (%#x), which the Component Model no longer has", c.Name, refines)
			}
			t.Cases = append(t.Cases, c)
		}
	case 0x70:
		t = types.ListOf(d.valType(r, s))
	case 0x6f:
		n := r.count("tuple element", 1)
		if n == 0 {
			bail(off, "tuple type must have at least one element")
		}
		t = &types.Type{Kind: types.Tuple, Fields: make([]types.Field, 0, n)}
		for range n {
			t.Fields = append(t.Fields, types.Field{Type: d.valType(r, s)})
		}
	case 0x6e, 0x6d:
		kind, what := types.Flags, "flag"
		if b == 0x6d {
			kind, what = types.Enum, "enum case"
		}
		n := r.count(what, 2)
		if n == 0 {
			bail(off, "%s type must have at least one label", kind)
		}
		if kind == types.Flags && n > 32 {
			bail(off, "flags type has %d flags; at most 32 are allowed", n)
		}
		labels := nameSet{}
		t = &types.Type{Kind: kind, Labels: make([]string, 0, n)}
		for range n {
			t.Labels = append(t.Labels, d.label(r, labels, what))
		}
	case 0x6b:
		t = types.OptionOf(d.valType(r, s))
	case 0x6a:
		ok := d.optValType(r, s)
		t = types.ResultOf(ok, d.optValType(r, s))
	case 0x69, 0x68:
		idxOff := r.offset()
		idx := r.u32()
		et := s.typeAt(idxOff, idx)
		if et.Kind != KindType || et.Resource == nil {
			bail(idxOff, "type %d is not a resource type; own and borrow need one", idx)
		}
		if b == 0x69 {
			t = types.OwnOf(et.Resource)
		} else {
			t = types.BorrowOf(et.Resource)
		}
	case 0x67:
		bailUnsupported(off, "fixed-length list type (0x67; a gated 🔧 feature)")
	case 0x66:
		bailUnsupported(off, "stream type (0x66; the async ABI)")
	case 0x65:
		bailUnsupported(off, "future type (0x65; the async ABI)")
	case 0x64:
		bailUnsupported(off, "error-context type (0x64)")
	case 0x63:
		bailUnsupported(off, "map type (0x63; a gated feature)")
	default:
		bail(off, "malformed value type %#x", b)
	}
	f := d.facts(t)
	if f.size >= maxElemSize {
		bail(off, "value type is too large: its size in memory is at least 2^28 bytes")
	}
	if f.depth > maxTypeDepth {
		bail(off, "value type is nested more than %d deep", maxTypeDepth)
	}
	return t
}

// label reads a kebab-case label that must be unique in labels.
func (d *decoder) label(r *reader, labels nameSet, what string) string {
	off := r.offset()
	name := r.name()
	if err := checkLabel(name); err != nil {
		bail(off, "%s name: %v", what, err)
	}
	if labels != nil {
		if err := labels.add(name); err != nil {
			bail(off, "%s %v", what, err)
		}
	}
	return name
}

// valType reads a valtype: a primitive, or the index of a defined value type
// (encoded as a non-negative s33).
func (d *decoder) valType(r *reader, s *scope) *types.Type {
	off := r.offset()
	b := r.peek()
	if b >= 0x40 && b <= 0x7f { // a one-byte negative s33: a primitive type code
		r.byte()
		if p, ok := primitives[b]; ok {
			return p
		}
		if b == 0x64 {
			bailUnsupported(off, "error-context type (0x64)")
		}
		bail(off, "malformed value type %#x", b)
	}
	v := r.s64()
	if v < 0 || v > 0xffffffff || r.offset()-off > 5 {
		bail(off, "malformed type index in a value type")
	}
	et := s.typeAt(off, uint32(v))
	if et.Kind != KindType || et.Type == nil {
		bail(off, "type %d is %s, not a value type", v, article(describeType(et)))
	}
	return et.Type
}

func describeType(et ExternType) string {
	if et.Kind == KindType && et.Resource != nil {
		return "resource type"
	}
	if et.Kind == KindType {
		return "value type"
	}
	return et.Kind.String() + " type"
}

// optValType reads valtype? (0x00, or 0x01 valtype).
func (d *decoder) optValType(r *reader, s *scope) *types.Type {
	off := r.offset()
	switch b := r.byte(); b {
	case 0x00:
		return nil
	case 0x01:
		return d.valType(r, s)
	default:
		bail(off, "malformed optional value type marker %#x", b)
	}
	return nil
}

// funcType reads a functype body (after 0x40).
func (d *decoder) funcType(r *reader, s *scope) *types.Func {
	ft := &types.Func{}
	names := nameSet{}
	n := r.count("param", 2)
	ft.Params = make([]types.Param, 0, n)
	for range n {
		name := d.label(r, names, "param")
		ft.Params = append(ft.Params, types.Param{Name: name, Type: d.valType(r, s)})
	}
	off := r.offset()
	switch b := r.byte(); b {
	case 0x00:
		ft.Results = []types.Param{{Type: d.valType(r, s)}}
	case 0x01:
		// The current encoding is 0x01 0x00 (no result); older toolchains
		// wrote named results here, which the types package still carries.
		n := r.count("result", 2)
		for range n {
			name := d.label(r, names, "result")
			ft.Results = append(ft.Results, types.Param{Name: name, Type: d.valType(r, s)})
		}
	default:
		bail(off, "malformed function result list %#x", b)
	}
	for _, res := range ft.Results {
		if d.facts(res.Type).hasBorrow {
			bail(off, "function result type contains a borrow handle; borrows may appear only in parameters")
		}
	}
	return ft
}

// componentType reads a componenttype body (after 0x41) in a new scope.
func (d *decoder) componentType(r *reader, s *scope) *ComponentType {
	ts := newScope(s, scopeComponentType)
	if ts.depth > maxNesting {
		r.fail("types nested more than %d deep", maxNesting)
	}
	n := r.count("component type declaration", 2)
	for range n {
		if r.peek() == 0x03 {
			r.byte()
			d.importDecl(r, ts)
			continue
		}
		d.instanceDecl(r, ts)
	}
	return &ComponentType{Imports: ts.imports, Exports: ts.exports, imported: ts.importedRes, exported: ts.exportedRes}
}

// instanceType reads an instancetype body (after 0x42) in a new scope.
func (d *decoder) instanceType(r *reader, s *scope) *InstanceType {
	ts := newScope(s, scopeInstanceType)
	if ts.depth > maxNesting {
		r.fail("types nested more than %d deep", maxNesting)
	}
	n := r.count("instance type declaration", 2)
	for range n {
		d.instanceDecl(r, ts)
	}
	return (&InstanceType{Exports: ts.exports, resources: ts.exportedRes}).indexExports()
}

// instanceDecl reads one instancedecl into the type scope ts.
func (d *decoder) instanceDecl(r *reader, ts *scope) {
	off := r.offset()
	switch b := r.byte(); b {
	case 0x00:
		ts.coreTypes = append(ts.coreTypes, d.coreType(r, ts, true))
	case 0x01:
		if r.peek() == 0x3f {
			bail(off, "resource types cannot be defined inside component or instance types; declare them with (export \"name\" (type (sub resource)))")
		}
		ts.types = append(ts.types, d.defType(r, ts))
	case 0x02:
		d.alias(r, ts)
	case 0x04:
		d.exportDecl(r, ts)
	default:
		bail(off, "malformed %s declaration %#x", map[scopeKind]string{scopeComponentType: "component type", scopeInstanceType: "instance type"}[ts.kind], b)
	}
}

// readExternName reads nameattributes: a name, without attributes.
func readExternName(r *reader) string {
	off := r.offset()
	switch b := r.byte(); b {
	case 0x00, 0x01:
		return r.name()
	case 0x02:
		bailUnsupported(off, "import or export name with attributes (0x02; implements/versionsuffix are gated features)")
	default:
		bail(off, "malformed import or export name prefix %#x", b)
	}
	return ""
}

// externType reads an externtype and resolves it in s. A `(sub resource)`
// bound becomes a fresh resource named name, and sub is set.
func (d *decoder) externType(r *reader, s *scope, name string) (et ExternType, sub bool) {
	off := r.offset()
	b := r.byte()
	idxType := func(kind ExternKind) ExternType {
		idxOff := r.offset()
		idx := r.u32()
		et := s.typeAt(idxOff, idx)
		if et.Kind != kind {
			bail(idxOff, "type %d is %s, but %s needs %s type", idx, article(describeType(et)), article(kind.String()), article(kind.String()))
		}
		return et
	}
	switch b {
	case 0x00:
		if k := r.byte(); k != 0x11 {
			bail(off, "malformed core extern type %#x (only core modules can be imported)", k)
		}
		idxOff := r.offset()
		idx := r.u32()
		ct := s.coreTypeAt(idxOff, idx)
		if ct.mod == nil {
			bail(idxOff, "core type %d is not a module type", idx)
		}
		return ExternType{Kind: KindModule, Module: ct.mod}, false
	case 0x01:
		return idxType(KindFunc), false
	case 0x02:
		bailUnsupported(off, "value import or export (a gated 🪙 feature)")
	case 0x03:
		boundOff := r.offset()
		switch bound := r.byte(); bound {
		case 0x00:
			idxOff := r.offset()
			idx := r.u32()
			et := s.typeAt(idxOff, idx)
			if et.Kind != KindType {
				bail(idxOff, "type %d is %s; an (eq) type bound must name a value or resource type", idx, article(describeType(et)))
			}
			return et, false
		case 0x01:
			return ExternType{Kind: KindType, Resource: &types.Resource{Name: name}}, true
		default:
			bail(boundOff, "malformed type bound %#x", bound)
		}
	case 0x04:
		return idxType(KindComponent), false
	case 0x05:
		return idxType(KindInstance), false
	default:
		bail(off, "malformed extern type %#x", b)
	}
	return ExternType{}, false
}

// freshInstance makes an instance type concrete for one import or export
// declaration: the resources it declares become fresh resources whose
// Interface is iface.
func (d *decoder) freshInstance(t *InstanceType, iface string) (*InstanceType, []*types.Resource) {
	if len(t.resources) == 0 {
		return t, nil
	}
	m := make(map[*types.Resource]*types.Resource, len(t.resources))
	fresh := make([]*types.Resource, len(t.resources))
	for i, r := range t.resources {
		fresh[i] = &types.Resource{Name: r.Name, Interface: iface}
		m[r] = fresh[i]
	}
	u := d.newSubst(m).instance(t)
	u.resources = nil
	return u, fresh
}

// named returns et as given the name name by an import or export: a value
// type gets a copy with Name set; a resource keeps its first name.
func named(et ExternType, name string) ExternType {
	if et.Kind != KindType {
		return et
	}
	if et.Resource != nil {
		if et.Resource.Name == "" {
			et.Resource.Name = name
		}
		return et
	}
	if et.Type.Name == name {
		return et
	}
	c := *et.Type
	c.Name = name
	et.Type = &c
	return et
}

// checkName validates an import or export name in s: its syntax, its
// uniqueness, and the rules for annotated names.
func (d *decoder) checkName(off int64, s *scope, name string, et ExternType, isImport bool) {
	n, err := parseExternName(name)
	if err != nil {
		bail(off, "%s", err)
	}
	what, names, resources := "export", s.exportNames, s.exportResources
	if isImport {
		what, names, resources = "import", s.importNames, s.importResources
	}
	if err := names.add(name); err != nil {
		bail(off, "%s %v", what, err)
	}
	if !n.iface && n.annotation == annNone && et.Kind == KindType && et.Resource != nil {
		resources[name] = et.Resource
	}
	if n.annotation == annNone {
		return
	}
	if et.Kind != KindFunc {
		bail(off, "%s %q: a name with a [constructor], [method] or [static] annotation must be a function, not %s", what, name, article(et.Kind.String()))
	}
	res, ok := resources[n.resource]
	if !ok {
		bail(off, "%s %q: no resource named %q was %sed before it in this scope", what, name, n.resource, what)
	}
	ft := et.Func
	switch n.annotation {
	case annConstructor:
		var ret *types.Type
		if len(ft.Results) == 1 {
			ret = ft.Results[0].Type
			if ret.Kind == types.Result {
				ret = ret.OK
			}
		}
		if ret == nil || ret.Kind != types.Own || ret.Resource != res {
			bail(off, "%s %q: a constructor must return (own %s) or (result (own %s) …)", what, name, n.resource, n.resource)
		}
	case annMethod:
		if len(ft.Params) == 0 || ft.Params[0].Name != "self" || ft.Params[0].Type.Kind != types.Borrow || ft.Params[0].Type.Resource != res {
			bail(off, "%s %q: a method's first parameter must be (param \"self\" (borrow %s))", what, name, n.resource)
		}
	}
}

// importDecl reads an importdecl into the component type scope ts.
func (d *decoder) importDecl(r *reader, ts *scope) {
	off := r.offset()
	name := readExternName(r)
	et, sub := d.externType(r, ts, name)
	et, fresh := d.declare(et, sub, name)
	d.checkName(off, ts, name, et, true)
	ts.importedRes = append(ts.importedRes, fresh...)
	et = named(et, lastSegment(name))
	ts.add(et)
	ts.imports = append(ts.imports, Extern{Name: name, Type: et})
}

// exportDecl reads an exportdecl into the type scope ts.
func (d *decoder) exportDecl(r *reader, ts *scope) {
	off := r.offset()
	name := readExternName(r)
	et, sub := d.externType(r, ts, name)
	et, fresh := d.declare(et, sub, name)
	d.checkName(off, ts, name, et, false)
	ts.exportedRes = append(ts.exportedRes, fresh...)
	et = named(et, lastSegment(name))
	if et.Kind == KindType && et.Type != nil && d.facts(et.Type).hasBorrow {
		bail(off, "exported type %q contains a borrow handle; borrows may appear only in function parameters", name)
	}
	ts.add(et)
	ts.exports = append(ts.exports, Extern{Name: name, Type: et})
}

// declare makes the type of one import or export declaration concrete: a
// (sub resource) bound is already a fresh resource; an instance type's own
// resources become fresh ones. It returns the resources introduced.
func (d *decoder) declare(et ExternType, sub bool, name string) (ExternType, []*types.Resource) {
	switch {
	case sub:
		return et, []*types.Resource{et.Resource}
	case et.Kind == KindInstance:
		inst, fresh := d.freshInstance(et.Instance, name)
		et.Instance = inst
		return et, fresh
	}
	return et, nil
}

// lastSegment returns the name a type gets from an import or export name: the
// plain name, or an interface name's interface.
func lastSegment(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	return name
}
