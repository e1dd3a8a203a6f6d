package binary

import (
	"fmt"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Component section ids (Binary.md, "Component Definitions").
const (
	secCustom       = 0
	secCoreModule   = 1
	secCoreInstance = 2
	secCoreType     = 3
	secComponent    = 4
	secInstance     = 5
	secAlias        = 6
	secType         = 7
	secCanon        = 8
	secStart        = 9
	secImport       = 10
	secExport       = 11
	secValue        = 12
)

// The component binary's version and layer (Binary.md, "preamble").
const (
	componentVersion = 0x0d
	componentLayer   = 0x01
)

// maxNesting bounds nested components and nested type scopes.
const maxNesting = 64

// workBudget bounds the type substitution and comparison work one Decode
// may do, so a small adversarial binary cannot make it run for long.
const workBudget = 1_000_000

// Decode decodes and validates a component binary. The returned Component
// refers to b (core module bytes and custom sections are slices of it): b
// must not be modified while the Component is in use.
//
// # Errors
//
// Every error is an *Error giving the byte offset of the problem. An input
// that is a core module rather than a component gets an *Error wrapping
// ErrCoreModule; a feature out of Tapedeck's scope gets one wrapping
// ErrUnsupported.
func Decode(b []byte) (c *Component, err error) {
	defer catch(&err)
	d := &decoder{
		budget:    workBudget,
		factCache: make(map[*types.Type]*typeFacts),
		eqCache:   make(map[[2]*types.Type]bool),
	}
	return d.component(newReader(b, 0), nil), nil
}

// decoder holds what one Decode call shares across scopes.
type decoder struct {
	budget    int
	factCache map[*types.Type]*typeFacts
	eqCache   map[[2]*types.Type]bool
	offset    int64 // of the definition being validated, for errors found deep inside
}

// spend takes n units of work from the budget.
func (d *decoder) spend(n int) {
	d.budget -= n
	if d.budget < 0 {
		bail(d.offset, "the component's types are too large to validate (more than %d steps of type work)", workBudget)
	}
}

func (d *decoder) checkPreamble(r *reader) {
	b := r.buf
	if len(b) < 8 {
		r.fail("too short to be a component (%d bytes; a component starts with 8 bytes \\0asm 0d 00 01 00)", len(b))
	}
	if string(b[:4]) != "\x00asm" {
		r.fail("not a WebAssembly binary: it starts with % x, not the magic 00 61 73 6d (\\0asm)", b[:4])
	}
	version := uint16(b[4]) | uint16(b[5])<<8
	layer := uint16(b[6]) | uint16(b[7])<<8
	if layer == 0 {
		panic(&Error{Offset: r.base + 4, Err: ErrCoreModule, Msg: fmt.Sprintf(
			"this is a core WebAssembly module, not a component: its header has layer 0 (version %d); "+
				"wrap it into a component first, for example with `jco new` or `wasm-tools component new`", version)})
	}
	if layer != componentLayer {
		bail(r.base+6, "unknown binary layer %d (a component has layer 1)", layer)
	}
	if version != componentVersion {
		bail(r.base+4, "component binary version %#x; Tapedeck reads version 0x0d (the Component Model as of WASI 0.2)", version)
	}
	r.pos = 8
}

// component decodes one component (the outermost or a nested one) from r.
func (d *decoder) component(r *reader, parent *scope) *Component {
	d.checkPreamble(r)
	s := newScope(parent, scopeComponent)
	if s.depth > maxNesting {
		r.fail("components nested more than %d deep", maxNesting)
	}
	c := &Component{}
	for !r.done() {
		secOff := r.offset()
		id := r.byte()
		size := r.u32()
		sr := r.sub(size)
		d.offset = secOff
		switch id {
		case secCustom:
			d.custom(c, sr)
			continue
		case secCoreModule:
			off := sr.offset()
			m := readModule(sr.buf, off)
			def := &CoreModule{Offset: off, Index: uint32(len(s.coreModules)), Bytes: sr.buf, Module: m}
			s.coreModules = append(s.coreModules, m.Type())
			c.Defs = append(c.Defs, def)
			continue
		case secComponent:
			off := sr.offset()
			nested := d.component(sr, s)
			c.Defs = append(c.Defs, &NestedComponent{Offset: off, Index: uint32(len(s.components)), Component: nested})
			s.components = append(s.components, nested.Type)
			continue
		case secCoreInstance:
			d.vec(sr, "core instance", 2, func() { c.Defs = append(c.Defs, d.coreInstance(sr, s)) })
		case secCoreType:
			d.vec(sr, "core type", 2, func() { c.Defs = append(c.Defs, d.coreTypeDef(sr, s)) })
		case secInstance:
			d.vec(sr, "instance", 2, func() { c.Defs = append(c.Defs, d.instance(sr, s)) })
		case secAlias:
			d.vec(sr, "alias", 3, func() { c.Defs = append(c.Defs, d.alias(sr, s)) })
		case secType:
			d.vec(sr, "type", 1, func() { c.Defs = append(c.Defs, d.typeDef(sr, s)) })
		case secCanon:
			d.vec(sr, "canon", 2, func() { c.Defs = append(c.Defs, d.canon(sr, s)) })
		case secStart:
			c.Defs = append(c.Defs, d.start(sr, s))
		case secImport:
			d.vec(sr, "import", 3, func() { c.Defs = append(c.Defs, d.importDef(sr, s)) })
		case secExport:
			d.vec(sr, "export", 4, func() { c.Defs = append(c.Defs, d.exportDef(sr, s)) })
		case secValue:
			bailUnsupported(secOff, "value section (id 12; value definitions are a gated 🪙 feature)")
		default:
			bailUnsupported(secOff, "unknown section id %d", id)
		}
		if !sr.done() {
			bail(sr.offset(), "section id %d has %d bytes left over after its contents", id, sr.remaining())
		}
	}
	c.Type = &ComponentType{Imports: s.imports, Exports: s.exports, imported: s.importedRes}
	return c
}

// vec reads a vector count and calls item that many times.
func (d *decoder) vec(r *reader, what string, minSize int, item func()) {
	n := r.count(what, minSize)
	for range n {
		d.offset = r.offset()
		item()
	}
}

func (d *decoder) custom(c *Component, r *reader) {
	off := r.offset()
	name := r.name()
	data := r.buf[r.pos:]
	c.Custom = append(c.Custom, CustomSection{Offset: off, Name: name, Data: data})
	switch name {
	case "component-name":
		readNameSection(c, data)
	case "package-docs":
		c.PackageDocs = data
	}
	r.pos = len(r.buf)
}

// readNameSection reads a component-name section into c. Like core name
// sections, a malformed one is not an error (Binary.md, "Name Section"):
// what was read before the problem is kept.
func readNameSection(c *Component, data []byte) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*Error); !ok {
				panic(r)
			}
		}
	}()
	r := newReader(data, 0)
	for !r.done() {
		id := r.byte()
		sub := r.sub(r.u32())
		switch id {
		case 0:
			c.Name = sub.name()
		case 1:
			sort := readSort(sub)
			n := sub.count("name", 2)
			names := make(map[uint32]string, n)
			for range n {
				idx := sub.u32()
				names[idx] = sub.name()
			}
			if c.ItemNames == nil {
				c.ItemNames = map[Sort]map[uint32]string{}
			}
			c.ItemNames[sort] = names
		}
	}
}

// readSort reads a component sort (Binary.md, "sort").
func readSort(r *reader) Sort {
	off := r.offset()
	switch b := r.byte(); b {
	case 0x00:
		return readCoreSort(r)
	case 0x01:
		return SortFunc
	case 0x02:
		bailUnsupported(off, "value sort (value definitions are a gated 🪙 feature)")
	case 0x03:
		return SortType
	case 0x04:
		return SortComponent
	case 0x05:
		return SortInstance
	default:
		bail(off, "malformed sort %#x", b)
	}
	return 0
}

// readCoreSort reads a core sort (Binary.md, "core:sort").
func readCoreSort(r *reader) Sort {
	off := r.offset()
	switch b := r.byte(); b {
	case 0x00:
		return SortCoreFunc
	case 0x01:
		return SortCoreTable
	case 0x02:
		return SortCoreMemory
	case 0x03:
		return SortCoreGlobal
	case 0x04:
		return SortCoreTag
	case 0x10:
		return SortCoreType
	case 0x11:
		return SortCoreModule
	case 0x12:
		return SortCoreInstance
	default:
		bail(off, "malformed core sort %#x", b)
	}
	return 0
}

func (d *decoder) coreInstance(r *reader, s *scope) *CoreInstance {
	def := &CoreInstance{Offset: r.offset(), Index: uint32(len(s.coreInstances))}
	switch b := r.byte(); b {
	case 0x00:
		modOff := r.offset()
		inst := &CoreInstantiation{Module: r.u32()}
		mt := s.coreModule(modOff, inst.Module)
		n := r.count("core instantiation argument", 3)
		args := make(map[string]*CoreInstanceType, n)
		for range n {
			argOff := r.offset()
			a := CoreInstantiateArg{Name: r.name()}
			if sort := readCoreSort(r); sort != SortCoreInstance {
				bail(argOff, "core instantiation argument %q is %s; only core instances can be arguments", a.Name, article(sort.String()))
			}
			idxOff := r.offset()
			a.Instance = r.u32()
			if _, dup := args[a.Name]; dup {
				bail(argOff, "duplicate core instantiation argument %q", a.Name)
			}
			args[a.Name] = s.coreInstance(idxOff, a.Instance)
			inst.Args = append(inst.Args, a)
		}
		for _, imp := range mt.Imports {
			arg, ok := args[imp.Module]
			if !ok {
				bail(def.Offset, "core module %d imports %q from module %q, but no core instantiation argument is named %q",
					inst.Module, imp.Name, imp.Module, imp.Module)
			}
			got, ok := arg.Export(imp.Name)
			if !ok {
				bail(def.Offset, "core module %d imports %q from module %q, but the core instance given as %q has no export %q",
					inst.Module, imp.Name, imp.Module, imp.Module, imp.Name)
			}
			if err := matchCore(got, imp.Type); err != nil {
				bail(def.Offset, "core module %d import %q from %q: %v", inst.Module, imp.Name, imp.Module, err)
			}
		}
		def.Instantiate = inst
		def.Type = &CoreInstanceType{Exports: mt.Exports}
	case 0x01:
		n := r.count("core inline export", 3)
		def.Type = &CoreInstanceType{}
		names := make(map[string]bool, n)
		for range n {
			off := r.offset()
			e := CoreInlineExport{Name: r.name(), Sort: readCoreSort(r)}
			idxOff := r.offset()
			e.Index = r.u32()
			if names[e.Name] {
				bail(off, "duplicate core export name %q", e.Name)
			}
			names[e.Name] = true
			ext, ok := s.coreItem(idxOff, e.Sort, e.Index)
			if !ok {
				bail(off, "core export %q: a core instance can only export funcs, tables, memories, globals and tags, not %s", e.Name, article(e.Sort.String()))
			}
			def.Exports = append(def.Exports, e)
			def.Type.Exports = append(def.Type.Exports, CoreExportType{Name: e.Name, Type: ext})
		}
	default:
		bail(def.Offset, "malformed core instance expression %#x", b)
	}
	def.Type.indexExports()
	s.coreInstances = append(s.coreInstances, def.Type)
	return def
}

// matchCore checks that an export got satisfies an import that wants want.
func matchCore(got, want CoreExtern) error {
	if got.Kind != want.Kind {
		return fmt.Errorf("expected %s, found %s", article(want.Kind.String()), article(got.Kind.String()))
	}
	switch want.Kind {
	case CoreFunc, CoreTag:
		if !got.Func.Equal(want.Func) {
			return fmt.Errorf("expected type %s, found %s", want.Func, got.Func)
		}
	case CoreTable:
		if got.Table.Elem != want.Table.Elem {
			return fmt.Errorf("expected table of %s, found table of %s", valueTypeName(want.Table.Elem), valueTypeName(got.Table.Elem))
		}
		return matchLimits(got.Table.Limits, want.Table.Limits)
	case CoreMemory:
		if got.Memory.Shared != want.Memory.Shared {
			return fmt.Errorf("memory sharedness differs")
		}
		return matchLimits(got.Memory.Limits, want.Memory.Limits)
	case CoreGlobal:
		if got.Global != want.Global {
			return fmt.Errorf("expected global %s (mutable %v), found %s (mutable %v)",
				valueTypeName(want.Global.Type), want.Global.Mutable, valueTypeName(got.Global.Type), got.Global.Mutable)
		}
	}
	return nil
}

func matchLimits(got, want Limits) error {
	if got.Min < want.Min {
		return fmt.Errorf("minimum size %d is below the required %d", got.Min, want.Min)
	}
	if want.HasMax && (!got.HasMax || got.Max > want.Max) {
		return fmt.Errorf("maximum size exceeds the required maximum %d", want.Max)
	}
	return nil
}

func (d *decoder) coreTypeDef(r *reader, s *scope) *CoreTypeDef {
	def := &CoreTypeDef{Offset: r.offset(), Index: uint32(len(s.coreTypes))}
	ct := d.coreType(r, s, true)
	def.Func, def.Module = ct.fn, ct.mod
	s.coreTypes = append(s.coreTypes, ct)
	return def
}

// coreType reads a core:type. Module types are allowed only at the top of a
// scope, not inside another module type.
func (d *decoder) coreType(r *reader, s *scope, allowModule bool) coreTypeEntry {
	off := r.offset()
	switch form := r.byte(); form {
	case 0x60:
		ft := readCoreFuncTypeBody(r)
		return coreTypeEntry{fn: &ft}
	case 0x50:
		if !allowModule {
			bail(off, "a module type cannot be declared inside a module type")
		}
		return coreTypeEntry{mod: d.moduleType(r, s)}
	case 0x00, 0x4e, 0x4f, 0x5e, 0x5f:
		bailUnsupported(off, "core type form %#x (the GC proposal)", form)
	default:
		bail(off, "malformed core type form %#x", form)
	}
	return coreTypeEntry{}
}

// moduleType reads a core:moduletype body; it has its own core type index
// space and may alias outer core types.
func (d *decoder) moduleType(r *reader, s *scope) *ModuleType {
	mt := &ModuleType{}
	var local []FuncType
	typeAt := func(off int64) func(uint32) FuncType {
		return func(idx uint32) FuncType {
			if idx >= uint32(len(local)) {
				bail(off, "core type index %d out of range (the module type has %d types)", idx, len(local))
			}
			return local[idx]
		}
	}
	exportNames := map[string]bool{}
	n := r.count("module type declaration", 2)
	for range n {
		off := r.offset()
		switch b := r.byte(); b {
		case 0x00:
			imp := CoreImport{Module: r.name(), Name: r.name()}
			imp.Type, _ = readCoreImportDesc(r, typeAt(r.offset()))
			mt.Imports = append(mt.Imports, imp)
		case 0x01:
			ct := d.coreType(r, s, false)
			local = append(local, *ct.fn)
		case 0x02:
			if sort, outer := r.byte(), r.byte(); sort != 0x10 || outer != 0x01 {
				bail(off, "malformed module type alias %#x %#x (only outer core type aliases are allowed)", sort, outer)
			}
			ctOff := r.offset()
			count, idx := r.u32(), r.u32()
			if count == 0 {
				bail(ctOff, "outer alias count 0 inside a module type refers to the module type itself, whose types are not yet defined")
			}
			target := s.outer(ctOff, count-1)
			t := target.coreTypeAt(ctOff, idx)
			if t.fn == nil {
				bail(ctOff, "outer alias of core type %d: a module type cannot alias a module type", idx)
			}
			local = append(local, *t.fn)
		case 0x03:
			name := r.name()
			if exportNames[name] {
				bail(off, "duplicate export %q in module type", name)
			}
			exportNames[name] = true
			et, _ := readCoreImportDesc(r, typeAt(r.offset()))
			mt.Exports = append(mt.Exports, CoreExportType{Name: name, Type: et})
		default:
			bail(off, "malformed module type declaration %#x", b)
		}
	}
	return mt
}

func (d *decoder) start(r *reader, s *scope) *Start {
	def := &Start{Offset: r.offset()}
	fnOff := r.offset()
	def.Func = r.u32()
	def.Type = s.funcAt(fnOff, def.Func)
	nargs := r.count("start argument", 1)
	for range nargs {
		r.u32()
	}
	nres := r.u32()
	if nargs != 0 || nres != 0 {
		bailUnsupported(def.Offset, "start function with %d arguments and %d results (values are a gated 🪙 feature)", nargs, nres)
	}
	if len(def.Type.Params) != 0 || len(def.Type.Results) != 0 {
		bail(def.Offset, "start function %d has type %s; a start function without values must take and return nothing", def.Func, funcText(def.Type))
	}
	return def
}
