package binary

import (
	"fmt"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// instance reads a component instance definition.
func (d *decoder) instance(r *reader, s *scope) *Instance {
	def := &Instance{Offset: r.offset(), Index: uint32(len(s.instances))}
	switch b := r.byte(); b {
	case 0x00:
		compOff := r.offset()
		inst := &Instantiation{Component: r.u32()}
		ct := s.componentAt(compOff, inst.Component)
		n := r.count("instantiation argument", 3)
		args := make(map[string]ExternType, n)
		for range n {
			argOff := r.offset()
			a := InstantiateArg{Name: r.name(), Sort: readSort(r)}
			idxOff := r.offset()
			a.Index = r.u32()
			if _, dup := args[a.Name]; dup {
				bail(argOff, "duplicate instantiation argument %q", a.Name)
			}
			args[a.Name] = s.item(idxOff, a.Sort, a.Index)
			inst.Args = append(inst.Args, a)
		}
		def.Instantiate = inst
		def.Type = d.instantiate(def.Offset, inst.Component, ct, args)
	case 0x01:
		n := r.count("inline export", 4)
		es := newScope(s, scopeInstanceType)
		def.Type = &InstanceType{}
		for range n {
			off := r.offset()
			e := InlineExport{Name: readExternName(r), Sort: readSort(r)}
			idxOff := r.offset()
			e.Index = r.u32()
			et := s.item(idxOff, e.Sort, e.Index)
			d.checkName(off, es, e.Name, et, false)
			def.Exports = append(def.Exports, e)
			def.Type.Exports = append(def.Type.Exports, Extern{Name: e.Name, Type: named(et, lastSegment(e.Name))})
		}
	default:
		bail(def.Offset, "malformed instance expression %#x", b)
	}
	def.Type.indexExports()
	s.instances = append(s.instances, def.Type)
	return def
}

// instantiate checks args against the imports of component type ct and
// returns the type of the resulting instance: ct's exports with the
// imported resources replaced by the arguments' and the resources its
// exports declare made fresh.
func (d *decoder) instantiate(off int64, idx uint32, ct *ComponentType, args map[string]ExternType) *InstanceType {
	abstract := make(map[*types.Resource]bool, len(ct.imported))
	for _, r := range ct.imported {
		abstract[r] = true
	}
	m := map[*types.Resource]*types.Resource{}
	for _, imp := range ct.Imports {
		arg, ok := args[imp.Name]
		if !ok {
			bail(off, "component %d imports %q (%s), but no instantiation argument is named %q", idx, imp.Name, article(imp.Type.Kind.String()), imp.Name)
		}
		if err := d.match(arg, imp.Type, abstract, m); err != nil {
			bail(off, "instantiation argument %q of component %d: %v", imp.Name, idx, err)
		}
	}
	for _, r := range ct.exported {
		m[r] = &types.Resource{Name: r.Name, Interface: r.Interface}
	}
	it := &InstanceType{Exports: d.newSubst(m).externs(ct.Exports)}
	for _, e := range it.Exports {
		// A resource passed in unnamed (defined by the instantiating
		// component) takes the name the instance exports it under.
		if e.Type.Kind == KindType && e.Type.Resource != nil && e.Type.Resource.Name == "" {
			e.Type.Resource.Name = lastSegment(e.Name)
		}
	}
	return it
}

// match checks that an item of type got can be used where want is expected.
// Resources in abstract that want mentions are bound in m to got's resources
// as they are met (want is substituted with m before each comparison).
func (d *decoder) match(got, want ExternType, abstract map[*types.Resource]bool, m map[*types.Resource]*types.Resource) error {
	d.spend(1)
	if got.Kind != want.Kind {
		return fmt.Errorf("expected %s, found %s", article(want.Kind.String()), article(got.Kind.String()))
	}
	sub := d.newSubst(m)
	switch want.Kind {
	case KindFunc:
		if w := sub.fn(want.Func); !d.equalFunc(got.Func, w) {
			return fmt.Errorf("expected function type %s, found %s", funcText(w), funcText(got.Func))
		}
	case KindType:
		if want.Resource != nil {
			if got.Resource == nil {
				return fmt.Errorf("expected a resource type, found a value type")
			}
			if abstract[want.Resource] {
				if bound, ok := m[want.Resource]; ok {
					if bound != got.Resource {
						return fmt.Errorf("resource type %q given twice, as different resources", want.Resource.Name)
					}
					return nil
				}
				m[want.Resource] = got.Resource
				return nil
			}
			if sub.resource(want.Resource) != got.Resource {
				return fmt.Errorf("expected resource type %q, found a different resource %q", want.Resource.Name, got.Resource.Name)
			}
			return nil
		}
		if got.Type == nil {
			return fmt.Errorf("expected a value type, found a resource type")
		}
		if !d.equal(got.Type, sub.typ(want.Type)) {
			return fmt.Errorf("expected value type %s, found %s", typeText(sub.typ(want.Type)), typeText(got.Type))
		}
	case KindInstance:
		for _, we := range want.Instance.Exports {
			ge, ok := got.Instance.Export(we.Name)
			if !ok {
				return fmt.Errorf("the instance has no export %q", we.Name)
			}
			if err := d.match(ge, we.Type, abstract, m); err != nil {
				return fmt.Errorf("export %q: %w", we.Name, err)
			}
		}
	case KindComponent:
		// Component-typed items are checked by names and kinds: no toolchain
		// Tapedeck runs passes components around.
		for _, gi := range got.Component.Imports {
			wi, ok := d.findExtern(want.Component.Imports, gi.Name)
			if !ok || wi.Kind != gi.Type.Kind {
				return fmt.Errorf("the component imports %q (%s), which the expected type does not provide", gi.Name, article(gi.Type.Kind.String()))
			}
		}
		for _, we := range want.Component.Exports {
			ge, ok := d.findExtern(got.Component.Exports, we.Name)
			if !ok || ge.Kind != we.Type.Kind {
				return fmt.Errorf("the component has no %s export %q", we.Type.Kind, we.Name)
			}
		}
	case KindModule:
		d.spend(len(got.Module.Imports) * len(want.Module.Imports))
		d.spend(len(got.Module.Exports) * len(want.Module.Exports))
		for _, gi := range got.Module.Imports {
			if !moduleProvides(want.Module.Imports, gi) {
				return fmt.Errorf("the core module imports %q from %q, which the expected type does not provide", gi.Name, gi.Module)
			}
		}
		for _, we := range want.Module.Exports {
			found := false
			for _, ge := range got.Module.Exports {
				if ge.Name == we.Name {
					if err := matchCore(ge.Type, we.Type); err != nil {
						return fmt.Errorf("core module export %q: %w", we.Name, err)
					}
					found = true
				}
			}
			if !found {
				return fmt.Errorf("the core module has no export %q", we.Name)
			}
		}
	}
	return nil
}

func (d *decoder) findExtern(es []Extern, name string) (ExternType, bool) {
	d.spend(len(es))
	return findExtern(es, name)
}

func findExtern(es []Extern, name string) (ExternType, bool) {
	for _, e := range es {
		if e.Name == name {
			return e.Type, true
		}
	}
	return ExternType{}, false
}

func moduleProvides(imports []CoreImport, want CoreImport) bool {
	for _, i := range imports {
		if i.Module == want.Module && i.Name == want.Name {
			return matchCore(i.Type, want.Type) == nil
		}
	}
	return false
}

// alias reads an alias definition (or declaration, in a type scope).
func (d *decoder) alias(r *reader, s *scope) *Alias {
	def := &Alias{Offset: r.offset(), Sort: readSort(r)}
	inType := s.kind != scopeComponent
	switch b := r.byte(); b {
	case 0x00:
		def.Kind = AliasInstanceExport
		idxOff := r.offset()
		def.Instance = r.u32()
		def.Name = r.name()
		if def.Sort.IsCore() && def.Sort != SortCoreModule {
			bail(def.Offset, "alias of instance export %q: a component instance cannot export %s", def.Name, article(def.Sort.String()))
		}
		if inType && def.Sort != SortInstance && def.Sort != SortType {
			bail(def.Offset, "alias of instance export %q: inside a type, only types and instances can be aliased, not %s", def.Name, article(def.Sort.String()))
		}
		it := s.instanceAt(idxOff, def.Instance)
		et, ok := it.Export(def.Name)
		if !ok {
			bail(def.Offset, "instance %d has no export %q", def.Instance, def.Name)
		}
		if et.Kind.Sort() != def.Sort {
			bail(def.Offset, "export %q of instance %d is %s, not %s", def.Name, def.Instance, article(et.Kind.String()), article(def.Sort.String()))
		}
		def.Type = et
		def.Index = s.add(et)
	case 0x01:
		def.Kind = AliasCoreInstanceExport
		idxOff := r.offset()
		def.Instance = r.u32()
		def.Name = r.name()
		if inType {
			bail(def.Offset, "core export aliases are not allowed inside a type")
		}
		it := s.coreInstance(idxOff, def.Instance)
		ce, ok := it.Export(def.Name)
		if !ok {
			bail(def.Offset, "core instance %d has no export %q", def.Instance, def.Name)
		}
		if ce.Kind.Sort() != def.Sort {
			bail(def.Offset, "export %q of core instance %d is %s, not %s", def.Name, def.Instance, article(ce.Kind.String()), article(def.Sort.String()))
		}
		def.Core = ce
		def.Index = s.addCore(ce)
	case 0x02:
		def.Kind = AliasOuter
		ctOff := r.offset()
		def.OuterCount, def.OuterIndex = r.u32(), r.u32()
		allowed := def.Sort == SortCoreType || def.Sort == SortType
		if !inType {
			allowed = allowed || def.Sort == SortCoreModule || def.Sort == SortComponent
		}
		if !allowed {
			bail(def.Offset, "outer alias of %s: only types, core types, components and core modules (the last two not inside types) can be aliased", article(def.Sort.String()))
		}
		target := s.outer(ctOff, def.OuterCount)
		crossesComponent := false
		for t := s; t != target; t = t.parent {
			crossesComponent = crossesComponent || t.kind == scopeComponent
		}
		switch def.Sort {
		case SortCoreType:
			ct := target.coreTypeAt(ctOff, def.OuterIndex)
			s.coreTypes = append(s.coreTypes, ct)
			def.Index = uint32(len(s.coreTypes) - 1)
		default:
			et := target.item(ctOff, def.Sort, def.OuterIndex)
			if crossesComponent && def.Sort == SortType {
				d.resourcesIn(et, func(*types.Resource) {
					bail(ctOff, "outer alias of type %d refers to a resource type across a component boundary", def.OuterIndex)
				})
			}
			def.Type = et
			def.Index = s.add(et)
		}
	default:
		bail(def.Offset, "malformed alias target %#x", b)
	}
	return def
}

// importDef reads a component import.
func (d *decoder) importDef(r *reader, s *scope) *Import {
	def := &Import{Offset: r.offset()}
	def.Name = readExternName(r)
	et, sub := d.externType(r, s, def.Name)
	et, fresh := d.declare(et, sub, def.Name)
	d.checkName(def.Offset, s, def.Name, et, true)
	s.importedRes = append(s.importedRes, fresh...)
	for _, r := range fresh {
		s.visible[r] = true
	}
	d.resourcesIn(et, func(r *types.Resource) { s.visible[r] = true })
	et = named(et, lastSegment(def.Name))
	def.Type = et
	def.Index = s.add(et)
	s.imports = append(s.imports, Extern{Name: def.Name, Type: et})
	return def
}

// exportDef reads a component export.
func (d *decoder) exportDef(r *reader, s *scope) *Export {
	def := &Export{Offset: r.offset()}
	def.Name = readExternName(r)
	def.Sort = readSort(r)
	idxOff := r.offset()
	def.Index = r.u32()
	et := s.item(idxOff, def.Sort, def.Index)
	ascOff := r.offset()
	switch b := r.byte(); b {
	case 0x00:
	case 0x01:
		asc, sub := d.externType(r, s, def.Name)
		if sub {
			// (sub resource) ascribes "some resource": the export stays the
			// resource it names.
			if et.Kind != KindType || et.Resource == nil {
				bail(ascOff, "export %q is ascribed a resource type but exports %s", def.Name, article(describeType(et)))
			}
			break
		}
		if err := d.match(et, asc, nil, map[*types.Resource]*types.Resource{}); err != nil {
			bail(ascOff, "export %q does not match its ascribed type: %v", def.Name, err)
		}
		et = asc
	default:
		bail(ascOff, "malformed export type ascription marker %#x", b)
	}
	d.checkName(def.Offset, s, def.Name, et, false)
	switch {
	case et.Kind == KindType && et.Resource != nil:
		s.visible[et.Resource] = true
	case et.Kind == KindType && d.facts(et.Type).hasBorrow:
		bail(def.Offset, "exported type %q contains a borrow handle; borrows may appear only in function parameters", def.Name)
	case et.Kind == KindInstance:
		for _, e := range et.Instance.Exports {
			if e.Type.Kind == KindType && e.Type.Resource != nil {
				s.visible[e.Type.Resource] = true
			}
		}
	}
	d.resourcesIn(et, func(r *types.Resource) {
		if !s.visible[r] {
			name := "a resource type this component defines"
			if r.Name != "" {
				name = fmt.Sprintf("resource type %q", r.Name)
			}
			bail(def.Offset, "export %q mentions %s, which this component neither imports nor exports before it; export the resource type first", def.Name, name)
		}
	})
	et = named(et, lastSegment(def.Name))
	def.Type = et
	def.NewIndex = s.add(et)
	s.exports = append(s.exports, Extern{Name: def.Name, Type: et})
	return def
}
