package binary

import (
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/internal/abi"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Component is a decoded and validated component.
type Component struct {
	// Defs holds the component's definitions in binary order. Each is one of
	// *CoreModule, *CoreInstance, *CoreTypeDef, *NestedComponent, *Instance,
	// *Alias, *TypeDef, *Canon, *Start, *Import, *Export.
	Defs []Definition

	// Name is the component's name from its component-name custom section;
	// empty when there is none.
	Name string
	// ItemNames holds the names the component-name section gives items, by
	// sort and index (debugging information: a malformed section is
	// ignored, so it may be empty or partial). Nil when there are none.
	ItemNames map[Sort]map[uint32]string
	// PackageDocs is the content of the package-docs custom section (a
	// version byte, then JSON, as wit-component writes it); nil when absent.
	PackageDocs []byte
	// Custom lists every custom section, in order, including the two above.
	Custom []CustomSection

	// Type is the component's type: its imports and exports with resolved
	// types, as a parent component sees it.
	Type *ComponentType
}

// Imports returns the component's imports with their resolved types, in order.
func (c *Component) Imports() []Extern { return c.Type.Imports }

// Exports returns the component's exports with their resolved types, in order.
func (c *Component) Exports() []Extern { return c.Type.Exports }

// CustomSection is a custom section (id 0). Data is a slice of the input.
type CustomSection struct {
	Offset int64 // of the section's content
	Name   string
	Data   []byte
}

// Definition is one item of a component's sections. The concrete types are
// listed on [Component.Defs]; the linker switches on them.
type Definition interface {
	// Pos returns the byte offset of the definition in the outermost input.
	Pos() int64
	definition()
}

// Sort names an index space. The core sorts come first.
type Sort uint8

// The sorts of the Component Model (Binary.md, "sort" and "core:sort").
const (
	SortCoreFunc Sort = iota + 1
	SortCoreTable
	SortCoreMemory
	SortCoreGlobal
	SortCoreTag
	SortCoreType
	SortCoreModule
	SortCoreInstance
	SortFunc
	SortValue
	SortType
	SortComponent
	SortInstance
)

var sortNames = [...]string{
	SortCoreFunc: "core func", SortCoreTable: "core table", SortCoreMemory: "core memory",
	SortCoreGlobal: "core global", SortCoreTag: "core tag", SortCoreType: "core type",
	SortCoreModule: "core module", SortCoreInstance: "core instance", SortFunc: "func",
	SortValue: "value", SortType: "type", SortComponent: "component", SortInstance: "instance",
}

// String returns the sort as the text format spells it, such as "core func".
func (s Sort) String() string {
	if int(s) < len(sortNames) && sortNames[s] != "" {
		return sortNames[s]
	}
	return fmt.Sprintf("sort(%d)", uint8(s))
}

// IsCore reports whether s is one of the core sorts.
func (s Sort) IsCore() bool { return s >= SortCoreFunc && s <= SortCoreInstance }

// CoreModule is an embedded core module (section 1). It adds Index to the
// core module index space.
type CoreModule struct {
	Offset int64 // of the module's first byte (its magic) in the outermost input
	Index  uint32
	// Bytes is the module's binary, a slice of the input (not a copy).
	Bytes []byte
	// Module is what validation and linking need from the module: its
	// imports, exports and index-space sizes.
	Module *Module
}

// CoreInstance is a core instance definition (section 2). It adds Index to
// the core instance index space. Exactly one of Instantiate and Exports is
// meaningful: Instantiate is nil for an instance built from exports.
type CoreInstance struct {
	Offset      int64
	Index       uint32
	Instantiate *CoreInstantiation
	// Exports lists the items of an instance built from exports
	// (`(core instance (export "name" (func 3)) …)`).
	Exports []CoreInlineExport
	// Type lists what the instance exports, by name, with their core types.
	Type *CoreInstanceType
}

// CoreInstantiation instantiates the core module Module (a core module
// index) with one core instance per import module name.
type CoreInstantiation struct {
	Module uint32
	Args   []CoreInstantiateArg
}

// CoreInstantiateArg supplies core instance Instance for the module's imports
// whose module name is Name.
type CoreInstantiateArg struct {
	Name     string
	Instance uint32
}

// CoreInlineExport is one item of a core instance built from exports: the
// item Index of core sort Sort, exported as Name.
type CoreInlineExport struct {
	Name  string
	Sort  Sort
	Index uint32
}

// CoreInstanceType is what a core instance exports.
type CoreInstanceType struct {
	Exports []CoreExportType

	index map[string]int // export name → position, built by Decode
}

// Export returns the export called name.
func (t *CoreInstanceType) Export(name string) (CoreExtern, bool) {
	if t.index != nil {
		if i, ok := t.index[name]; ok {
			return t.Exports[i].Type, true
		}
		return CoreExtern{}, false
	}
	for _, e := range t.Exports {
		if e.Name == name {
			return e.Type, true
		}
	}
	return CoreExtern{}, false
}

// indexExports builds the name index Export uses, so that looking up every
// export of a large instance costs linear time. (The first of duplicate
// names wins, as in the linear scan.)
func (t *CoreInstanceType) indexExports() *CoreInstanceType {
	t.index = make(map[string]int, len(t.Exports))
	for i := len(t.Exports) - 1; i >= 0; i-- {
		t.index[t.Exports[i].Name] = i
	}
	return t
}

// CoreTypeDef is a core type definition (section 3): a function type or a
// module type. It adds Index to the core type index space. The linker has no
// use for it; it is kept so that Defs is complete.
type CoreTypeDef struct {
	Offset int64
	Index  uint32
	Func   *FuncType   // set for a function type
	Module *ModuleType // set for a module type
}

// NestedComponent is a component defined inside this one (section 4). It adds
// Index to the component index space.
type NestedComponent struct {
	Offset    int64
	Index     uint32
	Component *Component
}

// Instance is a component instance definition (section 5). It adds Index to
// the component instance index space. Exactly one of Instantiate and Exports
// is meaningful: Instantiate is nil for an instance built from exports.
type Instance struct {
	Offset      int64
	Index       uint32
	Instantiate *Instantiation
	Exports     []InlineExport
	// Type is the instance's resolved type: for an instantiation, the
	// component's exports with its imported resources replaced by the
	// arguments'.
	Type *InstanceType
}

// Instantiation instantiates component Component (a component index).
type Instantiation struct {
	Component uint32
	Args      []InstantiateArg
}

// InstantiateArg supplies the item Index of sort Sort for the component's
// import called Name.
type InstantiateArg struct {
	Name  string
	Sort  Sort
	Index uint32
}

// InlineExport is one item of an instance built from exports.
type InlineExport struct {
	Name  string
	Sort  Sort
	Index uint32
}

// AliasKind says what an alias refers to.
type AliasKind uint8

// The kinds of alias (Binary.md, "alias").
const (
	// AliasInstanceExport is `(alias export Instance Name (Sort))`.
	AliasInstanceExport AliasKind = iota + 1
	// AliasCoreInstanceExport is `(alias core export Instance Name (Sort))`.
	AliasCoreInstanceExport
	// AliasOuter is `(alias outer OuterCount OuterIndex (Sort))`: item
	// OuterIndex of the enclosing component OuterCount levels up.
	AliasOuter
)

// Alias is an alias definition (section 6). It adds Index to the index space
// of Sort.
type Alias struct {
	Offset int64
	Kind   AliasKind
	Sort   Sort
	Index  uint32

	Instance uint32 // for the export kinds: the (core) instance index
	Name     string // for the export kinds: the export's name

	OuterCount uint32 // for AliasOuter
	OuterIndex uint32 // for AliasOuter

	// Type is the aliased item's resolved type for the component sorts
	// (func, type, component, instance).
	Type ExternType
	// Core is the aliased item's core type for the core sorts func, table,
	// memory and global.
	Core CoreExtern
}

// TypeDef is a component type definition (section 7). It adds Index to the
// component type index space.
type TypeDef struct {
	Offset int64
	Index  uint32
	// Type is the resolved type: Kind KindType (a value type in Type.Type,
	// or a resource in Type.Resource), KindFunc, KindComponent or
	// KindInstance.
	Type ExternType
	// Dtor is the core func index of a defined resource's destructor, valid
	// when HasDtor; it takes the resource's i32 representation.
	Dtor    uint32
	HasDtor bool
}

// CanonKind names a canonical built-in.
type CanonKind uint8

// The canonical built-ins in scope (Binary.md, "canon").
const (
	CanonLift CanonKind = iota + 1
	CanonLower
	CanonResourceNew
	CanonResourceDrop
	CanonResourceRep
)

var canonNames = [...]string{
	CanonLift: "canon lift", CanonLower: "canon lower", CanonResourceNew: "canon resource.new",
	CanonResourceDrop: "canon resource.drop", CanonResourceRep: "canon resource.rep",
}

// String returns the built-in as the text format spells it.
func (k CanonKind) String() string {
	if int(k) < len(canonNames) && canonNames[k] != "" {
		return canonNames[k]
	}
	return fmt.Sprintf("canon(%d)", uint8(k))
}

// Canon is a canonical definition (section 8). A lift adds Index to the
// component func index space; the others add Index to the core func index
// space.
type Canon struct {
	Offset int64
	Kind   CanonKind
	Index  uint32

	// CoreFunc is, for a lift, the core func it wraps.
	CoreFunc uint32
	// Func is, for a lower, the component func it lowers.
	Func uint32
	// Options are a lift's or lower's canonical options.
	Options CanonOptions
	// Type is, for a lift, the component function type it produces; for a
	// lower, the component function type it consumes.
	Type *types.Func
	// CoreType is the core signature: for a lift, the wrapped core func's
	// type; for the others, the type of the core func they define.
	CoreType FuncType

	// Resource is, for resource.new, resource.drop and resource.rep, the
	// resource type they operate on.
	Resource *types.Resource
}

// StringEncoding is the canonical string-encoding option: the canonical
// ABI's own type, so the decoder and the ABI cannot disagree on its values.
type StringEncoding = abi.StringEncoding

// The string encodings; the default is UTF8.
const (
	UTF8        = abi.UTF8
	UTF16       = abi.UTF16
	Latin1UTF16 = abi.Latin1UTF16
)

// CanonOptions are the canonical options of a lift or lower. Memory, Realloc
// and PostReturn are core indices, valid only when the matching Has field is set.
type CanonOptions struct {
	StringEncoding StringEncoding
	Memory         uint32 // core memory index
	HasMemory      bool
	Realloc        uint32 // core func index, type (i32 i32 i32 i32) -> i32
	HasRealloc     bool
	PostReturn     uint32 // core func index (lift only)
	HasPostReturn  bool
}

// Start is a component start definition (section 9). Only start functions
// that take and return no values are in scope.
type Start struct {
	Offset int64
	Func   uint32
	// Type is the start function's type (no params, no results).
	Type *types.Func
}

// Import is an import definition (section 10). It adds Index to the index
// space of Type.Kind's sort.
type Import struct {
	Offset int64
	Name   string
	Index  uint32
	// Type is the import's resolved type, with fresh resources for every
	// resource it introduces.
	Type ExternType
}

// Export is an export definition (section 11): the item Index of sort Sort,
// exported as Name. Like an alias, it adds NewIndex to the index space of
// Sort.
type Export struct {
	Offset   int64
	Name     string
	Sort     Sort
	Index    uint32
	NewIndex uint32
	// Type is the export's resolved type (the ascribed type when the export
	// has one, which the exported item's type has been checked against).
	Type ExternType
}

// Pos returns the byte offset of the CoreModule definition.
func (d *CoreModule) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the CoreInstance definition.
func (d *CoreInstance) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the CoreTypeDef definition.
func (d *CoreTypeDef) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the NestedComponent definition.
func (d *NestedComponent) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the Instance definition.
func (d *Instance) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the Alias definition.
func (d *Alias) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the TypeDef definition.
func (d *TypeDef) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the Canon definition.
func (d *Canon) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the Start definition.
func (d *Start) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the Import definition.
func (d *Import) Pos() int64 { return d.Offset }

// Pos returns the byte offset of the Export definition.
func (d *Export) Pos() int64 { return d.Offset }

func (*CoreModule) definition()      {}
func (*CoreInstance) definition()    {}
func (*CoreTypeDef) definition()     {}
func (*NestedComponent) definition() {}
func (*Instance) definition()        {}
func (*Alias) definition()           {}
func (*TypeDef) definition()         {}
func (*Canon) definition()           {}
func (*Start) definition()           {}
func (*Import) definition()          {}
func (*Export) definition()          {}

// ExternKind is the kind of an import, export or type.
type ExternKind uint8

// The extern kinds (Binary.md, "externtype"). KindType is a type import or
// export, or a type definition.
const (
	KindModule ExternKind = iota + 1
	KindFunc
	KindValue
	KindType
	KindComponent
	KindInstance
)

// String returns the kind as the text format spells it.
func (k ExternKind) String() string {
	switch k {
	case KindModule:
		return "core module"
	case KindFunc:
		return "func"
	case KindValue:
		return "value"
	case KindType:
		return "type"
	case KindComponent:
		return "component"
	case KindInstance:
		return "instance"
	}
	return fmt.Sprintf("extern(%d)", uint8(k))
}

// Sort returns the index space an item of this kind lives in.
func (k ExternKind) Sort() Sort {
	switch k {
	case KindModule:
		return SortCoreModule
	case KindFunc:
		return SortFunc
	case KindValue:
		return SortValue
	case KindType:
		return SortType
	case KindComponent:
		return SortComponent
	case KindInstance:
		return SortInstance
	}
	return 0
}

// ExternType is a resolved import, export or type. Which field is set depends
// on Kind:
//
//	KindModule      Module
//	KindFunc        Func
//	KindType        Type (a value type) or Resource (a resource type)
//	KindComponent   Component
//	KindInstance    Instance
type ExternType struct {
	Kind      ExternKind
	Module    *ModuleType
	Func      *types.Func
	Type      *types.Type
	Resource  *types.Resource
	Component *ComponentType
	Instance  *InstanceType
}

// String describes the type briefly, such as "func(a: u32) -> string" or
// "instance (3 exports)".
func (t ExternType) String() string {
	switch t.Kind {
	case KindModule:
		return fmt.Sprintf("core module (%d imports, %d exports)", len(t.Module.Imports), len(t.Module.Exports))
	case KindFunc:
		return t.Func.String()
	case KindType:
		if t.Resource != nil {
			return "resource " + t.Resource.Name
		}
		return "type " + t.Type.String()
	case KindComponent:
		return fmt.Sprintf("component (%d imports, %d exports)", len(t.Component.Imports), len(t.Component.Exports))
	case KindInstance:
		return fmt.Sprintf("instance (%d exports)", len(t.Instance.Exports))
	}
	return t.Kind.String()
}

// Extern is a named import or export.
type Extern struct {
	Name string
	Type ExternType
}

// InstanceType is the type of a component instance: its exports, in order.
type InstanceType struct {
	Exports []Extern

	// resources lists the resources the type itself declares with
	// `(export "r" (type (sub resource)))`: abstract until an import of the
	// type makes fresh ones.
	resources []*types.Resource
	index     map[string]int // export name → position, built by Decode
}

// Export returns the export called name.
func (t *InstanceType) Export(name string) (ExternType, bool) {
	if t.index != nil {
		if i, ok := t.index[name]; ok {
			return t.Exports[i].Type, true
		}
		return ExternType{}, false
	}
	for _, e := range t.Exports {
		if e.Name == name {
			return e.Type, true
		}
	}
	return ExternType{}, false
}

// indexExports builds the name index Export uses.
func (t *InstanceType) indexExports() *InstanceType {
	t.index = make(map[string]int, len(t.Exports))
	for i := len(t.Exports) - 1; i >= 0; i-- {
		t.index[t.Exports[i].Name] = i
	}
	return t
}

// ComponentType is the type of a component: its imports and exports, in order.
type ComponentType struct {
	Imports []Extern
	Exports []Extern

	// imported lists the resources the component imports: instantiation
	// replaces them with the arguments' resources.
	imported []*types.Resource
	// exported lists the abstract resources a component type declares in its
	// exports: instantiation replaces them with fresh ones.
	exported []*types.Resource
}

// FuncType is a core function type.
type FuncType struct {
	Params  []api.ValueType
	Results []api.ValueType
}

// String returns the type in the text format, such as "(func (param i32) (result i64))".
func (t FuncType) String() string {
	var b strings.Builder
	b.WriteString("(func")
	if len(t.Params) > 0 {
		b.WriteString(" (param")
		for _, p := range t.Params {
			b.WriteString(" " + valueTypeName(p))
		}
		b.WriteString(")")
	}
	if len(t.Results) > 0 {
		b.WriteString(" (result")
		for _, r := range t.Results {
			b.WriteString(" " + valueTypeName(r))
		}
		b.WriteString(")")
	}
	b.WriteString(")")
	return b.String()
}

// Equal reports whether t and u are the same core function type.
func (t FuncType) Equal(u FuncType) bool {
	return equalValueTypes(t.Params, u.Params) && equalValueTypes(t.Results, u.Results)
}

func equalValueTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// CoreKind is the kind of a core import or export.
type CoreKind uint8

// The core extern kinds, numbered as in the core binary format.
const (
	CoreFunc   CoreKind = 0
	CoreTable  CoreKind = 1
	CoreMemory CoreKind = 2
	CoreGlobal CoreKind = 3
	CoreTag    CoreKind = 4
)

// String returns the kind as the text format spells it.
func (k CoreKind) String() string {
	switch k {
	case CoreFunc:
		return "func"
	case CoreTable:
		return "table"
	case CoreMemory:
		return "memory"
	case CoreGlobal:
		return "global"
	case CoreTag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Sort returns the component-level sort of the kind's index space.
func (k CoreKind) Sort() Sort { return SortCoreFunc + Sort(k) }

// CoreExtern is the type of a core import or export. Which field is set
// depends on Kind: Func for CoreFunc and CoreTag (the tag's function type),
// Table, Memory, Global.
type CoreExtern struct {
	Kind   CoreKind
	Func   FuncType
	Table  TableType
	Memory MemoryType
	Global GlobalType
}

// TableType is a core table type.
type TableType struct {
	Elem   api.ValueType // funcref (0x70) or externref (0x6f)
	Limits Limits
}

// MemoryType is a core memory type (32-bit; memory64 is refused).
type MemoryType struct {
	Limits Limits
	Shared bool
}

// Limits are the minimum and optional maximum size of a table or memory.
type Limits struct {
	Min    uint32
	Max    uint32
	HasMax bool
}

// GlobalType is a core global type.
type GlobalType struct {
	Type    api.ValueType
	Mutable bool
}

// CoreImport is one import of a core module.
type CoreImport struct {
	Module string
	Name   string
	Type   CoreExtern
}

// CoreExportType is one export of a core module or instance type.
type CoreExportType struct {
	Name string
	Type CoreExtern
}

// ModuleType is the type of a core module: its imports and exports.
type ModuleType struct {
	Imports []CoreImport
	Exports []CoreExportType
}

// Module is what the component needs from an embedded core module: its
// function types, imports and exports, and the sizes of its index spaces
// (imports included). The module's code is not decoded.
type Module struct {
	Types   []FuncType
	Imports []CoreImport
	Exports []CoreExport

	NumFuncs, NumTables, NumMemories, NumGlobals, NumTags uint32
	// HasStart reports whether the module has a start function.
	HasStart bool
	// DataSize is the size of the data section in bytes: about how much of
	// its memory the module writes as it is instantiated.
	DataSize uint32
}

// CoreExport is one export of an embedded core module.
type CoreExport struct {
	Name  string
	Kind  CoreKind
	Index uint32 // in the module's index space of Kind
	Type  CoreExtern
}

// Type returns the module's type.
func (m *Module) Type() *ModuleType {
	t := &ModuleType{Imports: m.Imports, Exports: make([]CoreExportType, len(m.Exports))}
	for i, e := range m.Exports {
		t.Exports[i] = CoreExportType{Name: e.Name, Type: e.Type}
	}
	return t
}

func valueTypeName(t api.ValueType) string {
	switch t {
	case 0x7b:
		return "v128"
	case 0x70:
		return "funcref"
	}
	return api.ValueTypeName(t)
}
