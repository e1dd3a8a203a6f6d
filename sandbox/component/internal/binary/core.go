package binary

import (
	"github.com/tetratelabs/wazero/api"
)

// Core module section ids (WebAssembly core spec, "Modules").
const (
	coreSecCustom    = 0
	coreSecType      = 1
	coreSecImport    = 2
	coreSecFunction  = 3
	coreSecTable     = 4
	coreSecMemory    = 5
	coreSecGlobal    = 6
	coreSecExport    = 7
	coreSecStart     = 8
	coreSecElement   = 9
	coreSecCode      = 10
	coreSecData      = 11
	coreSecDataCount = 12
	coreSecTag       = 13
)

// readModule reads what validation and linking need from a core module:
// types, imports, exports, index-space sizes and the data section's size.
// It skips code, data and element sections by their sizes without scanning
// them; wazero validates the module body when it compiles it.
func readModule(b []byte, base int64) *Module {
	r := newReader(b, base)
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		r.fail("core module does not start with the magic \\0asm")
	}
	if b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		r.fail("core module version %#x is not 1", b[4:8])
	}
	r.pos = 8

	m := &Module{}
	var (
		funcTypes []uint32 // type index of every function, imports first
		tables    []TableType
		memories  []MemoryType
		globals   []GlobalType
		tags      []FuncType
		seen      [coreSecTag + 1]bool
	)
	typeAt := func(off int64, idx uint32) FuncType {
		if idx >= uint32(len(m.Types)) {
			bail(off, "core type index %d out of range (the module has %d types)", idx, len(m.Types))
		}
		return m.Types[idx]
	}
	for !r.done() {
		secStart := r.offset()
		id := r.byte()
		size := r.u32()
		s := r.sub(size)
		if id != coreSecCustom {
			if id > coreSecTag {
				bail(secStart, "unknown core module section id %d", id)
			}
			if seen[id] {
				bail(secStart, "duplicate core module section id %d", id)
			}
			seen[id] = true
		}
		switch id {
		case coreSecType:
			n := s.count("core type", 2)
			m.Types = make([]FuncType, 0, n)
			for range n {
				m.Types = append(m.Types, readCoreFuncTypeForm(s))
			}
		case coreSecImport:
			n := s.count("core import", 4)
			m.Imports = make([]CoreImport, 0, n)
			for range n {
				imp := CoreImport{Module: s.name(), Name: s.name()}
				off := s.offset()
				var typeIdx uint32
				imp.Type, typeIdx = readCoreImportDesc(s, func(idx uint32) FuncType { return typeAt(off, idx) })
				switch imp.Type.Kind {
				case CoreFunc:
					funcTypes = append(funcTypes, typeIdx)
				case CoreTable:
					tables = append(tables, imp.Type.Table)
				case CoreMemory:
					memories = append(memories, imp.Type.Memory)
				case CoreGlobal:
					globals = append(globals, imp.Type.Global)
				case CoreTag:
					tags = append(tags, imp.Type.Func)
				}
				m.Imports = append(m.Imports, imp)
			}
		case coreSecFunction:
			n := s.count("core function", 1)
			for range n {
				off := s.offset()
				idx := s.u32()
				typeAt(off, idx)
				funcTypes = append(funcTypes, idx)
			}
		case coreSecTable:
			n := s.count("core table", 3)
			for range n {
				if s.peek() == 0x40 {
					bailUnsupported(s.offset(), "core table with an initializer expression (function-references proposal)")
				}
				tables = append(tables, readTableType(s))
			}
		case coreSecMemory:
			n := s.count("core memory", 2)
			for range n {
				memories = append(memories, readMemoryType(s))
			}
		case coreSecGlobal:
			n := s.count("core global", 3)
			for range n {
				globals = append(globals, readGlobalType(s))
				skipConstExpr(s)
			}
		case coreSecTag:
			n := s.count("core tag", 2)
			for range n {
				off := s.offset()
				if a := s.byte(); a != 0 {
					bail(off, "core tag attribute %#x is not 0", a)
				}
				tags = append(tags, typeAt(s.offset(), s.u32()))
			}
		case coreSecExport:
			n := s.count("core export", 3)
			m.Exports = make([]CoreExport, 0, n)
			names := make(map[string]bool, n)
			for range n {
				off := s.offset()
				e := CoreExport{Name: s.name()}
				if names[e.Name] {
					bail(off, "duplicate core export name %q", e.Name)
				}
				names[e.Name] = true
				kindOff := s.offset()
				e.Kind = CoreKind(s.byte())
				e.Index = s.u32()
				e.Type.Kind = e.Kind
				inRange := func(n int) {
					if e.Index >= uint32(n) {
						bail(kindOff, "core export %q: %s index %d out of range (the module has %d)", e.Name, e.Kind, e.Index, n)
					}
				}
				switch e.Kind {
				case CoreFunc:
					inRange(len(funcTypes))
					e.Type.Func = m.Types[funcTypes[e.Index]]
				case CoreTable:
					inRange(len(tables))
					e.Type.Table = tables[e.Index]
				case CoreMemory:
					inRange(len(memories))
					e.Type.Memory = memories[e.Index]
				case CoreGlobal:
					inRange(len(globals))
					e.Type.Global = globals[e.Index]
				case CoreTag:
					inRange(len(tags))
					e.Type.Func = tags[e.Index]
				default:
					bail(kindOff, "core export %q has unknown kind %#x", e.Name, byte(e.Kind))
				}
				m.Exports = append(m.Exports, e)
			}
		case coreSecStart:
			off := s.offset()
			if idx := s.u32(); idx >= uint32(len(funcTypes)) {
				bail(off, "core start function index %d out of range (the module has %d functions)", idx, len(funcTypes))
			}
			m.HasStart = true
		case coreSecData:
			// Only its size matters (to choose how memory is backed);
			// wazero validates the segments.
			m.DataSize = size
			continue
		default:
			// Custom, element, code and data count sections hold nothing
			// the component needs; wazero validates them.
			continue
		}
		if !s.done() {
			bail(s.offset(), "core module section id %d has %d bytes left over", id, s.remaining())
		}
	}
	m.NumFuncs = uint32(len(funcTypes))
	m.NumTables = uint32(len(tables))
	m.NumMemories = uint32(len(memories))
	m.NumGlobals = uint32(len(globals))
	m.NumTags = uint32(len(tags))
	return m
}

// readCoreFuncTypeForm reads a type section entry, which must be a function
// type: the GC proposal's rec groups, structs and arrays are out of scope.
func readCoreFuncTypeForm(r *reader) FuncType {
	off := r.offset()
	switch form := r.byte(); form {
	case 0x60:
		return readCoreFuncTypeBody(r)
	case 0x4e, 0x50, 0x4f, 0x5e, 0x5f:
		bailUnsupported(off, "core type form %#x (the GC proposal)", form)
	default:
		bail(off, "malformed core type form %#x (expected 0x60, a function type)", form)
	}
	return FuncType{}
}

func readCoreFuncTypeBody(r *reader) FuncType {
	var t FuncType
	n := r.count("core param", 1)
	t.Params = make([]api.ValueType, 0, n)
	for range n {
		t.Params = append(t.Params, readCoreValueType(r))
	}
	n = r.count("core result", 1)
	t.Results = make([]api.ValueType, 0, n)
	for range n {
		t.Results = append(t.Results, readCoreValueType(r))
	}
	return t
}

func readCoreValueType(r *reader) api.ValueType {
	off := r.offset()
	switch t := r.byte(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return t
	case 0x63, 0x64, 0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x71, 0x72, 0x73, 0x74:
		bailUnsupported(off, "core value type %#x (the GC or function-references proposal)", t)
	default:
		bail(off, "malformed core value type %#x", t)
	}
	return 0
}

func readRefType(r *reader) api.ValueType {
	off := r.offset()
	t := readCoreValueType(r)
	if t != 0x70 && t != 0x6f {
		bail(off, "core table element type %#x is not a reference type", t)
	}
	return t
}

// readLimits reads core limits; memory64 and table64 are out of scope.
func readLimits(r *reader, allowShared bool) (Limits, bool) {
	off := r.offset()
	flags := r.byte()
	if flags&0x04 != 0 {
		bailUnsupported(off, "64-bit memory or table limits (flags %#x; the memory64 proposal)", flags)
	}
	if flags&0x08 != 0 {
		bailUnsupported(off, "custom page sizes (limits flags %#x)", flags)
	}
	if flags > 0x03 || (!allowShared && flags&0x02 != 0) {
		bail(off, "malformed limits flags %#x", flags)
	}
	l := Limits{Min: r.u32()}
	if flags&0x01 != 0 {
		l.Max, l.HasMax = r.u32(), true
		if l.Max < l.Min {
			bail(off, "limits maximum %d is below the minimum %d", l.Max, l.Min)
		}
	}
	shared := flags&0x02 != 0
	if shared && !l.HasMax {
		bail(off, "shared memory must have a maximum")
	}
	return l, shared
}

func readTableType(r *reader) TableType {
	elem := readRefType(r)
	l, _ := readLimits(r, false)
	return TableType{Elem: elem, Limits: l}
}

func readMemoryType(r *reader) MemoryType {
	l, shared := readLimits(r, true)
	return MemoryType{Limits: l, Shared: shared}
}

func readGlobalType(r *reader) GlobalType {
	t := GlobalType{Type: readCoreValueType(r)}
	off := r.offset()
	switch mut := r.byte(); mut {
	case 0:
	case 1:
		t.Mutable = true
	default:
		bail(off, "malformed global mutability %#x", mut)
	}
	return t
}

// readCoreImportDesc reads a core import descriptor (or an export
// declaration's extern type in a module type). typeAt resolves type indices;
// typeIdx is the type index of a function.
func readCoreImportDesc(r *reader, typeAt func(uint32) FuncType) (e CoreExtern, typeIdx uint32) {
	off := r.offset()
	e.Kind = CoreKind(r.byte())
	switch e.Kind {
	case CoreFunc:
		typeIdx = r.u32()
		e.Func = typeAt(typeIdx)
	case CoreTable:
		e.Table = readTableType(r)
	case CoreMemory:
		e.Memory = readMemoryType(r)
	case CoreGlobal:
		e.Global = readGlobalType(r)
	case CoreTag:
		if a := r.byte(); a != 0 {
			bail(off, "core tag attribute %#x is not 0", a)
		}
		e.Func = typeAt(r.u32())
	default:
		bail(off, "malformed core import kind %#x", byte(e.Kind))
	}
	return e, typeIdx
}

// skipConstExpr skips a constant expression (a global's initializer): the
// constant instructions of the core spec and the extended-const proposal.
func skipConstExpr(r *reader) {
	for {
		off := r.offset()
		switch op := r.byte(); op {
		case 0x0b: // end
			return
		case 0x41, 0x42: // i32.const, i64.const
			r.s64()
		case 0x43: // f32.const
			r.bytes(4)
		case 0x44: // f64.const
			r.bytes(8)
		case 0x23, 0xd2: // global.get, ref.func
			r.u32()
		case 0xd0: // ref.null
			r.byte()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const add, sub, mul
		case 0xfd: // v128.const
			if sub := r.u32(); sub != 12 {
				bail(off, "instruction 0xfd %d is not allowed in a constant expression", sub)
			}
			r.bytes(16)
		default:
			bail(off, "instruction %#x is not allowed in a constant expression", op)
		}
	}
}
