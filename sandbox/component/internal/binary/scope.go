package binary

import (
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

type scopeKind uint8

const (
	scopeComponent scopeKind = iota + 1
	scopeComponentType
	scopeInstanceType
)

// coreTypeEntry is an entry of the core type index space.
type coreTypeEntry struct {
	fn  *FuncType
	mod *ModuleType
}

// scope holds the index spaces of a component, or of a component or
// instance type (which see only the type, core type, func, instance and
// component spaces their declarations fill).
type scope struct {
	parent *scope
	kind   scopeKind
	depth  int

	coreFuncs     []FuncType
	coreTables    []TableType
	coreMemories  []MemoryType
	coreGlobals   []GlobalType
	coreTags      []FuncType
	coreTypes     []coreTypeEntry
	coreModules   []*ModuleType
	coreInstances []*CoreInstanceType

	funcs      []*types.Func
	types      []ExternType
	components []*ComponentType
	instances  []*InstanceType

	// defined holds the resources this component defines (resource.new and
	// resource.rep are allowed only for them).
	defined map[*types.Resource]bool
	// visible holds resources introduced by an import or export: what an
	// export's type may mention.
	visible map[*types.Resource]bool

	importNames, exportNames nameSet
	// importResources and exportResources map the plain names of resource
	// imports and exports to their resources, for [method] and friends.
	importResources, exportResources map[string]*types.Resource

	imports, exports []Extern
	// importedRes lists the resources imports introduced, in order.
	importedRes []*types.Resource
	// exportedRes lists the abstract resources export declarations of a
	// component or instance type introduced.
	exportedRes []*types.Resource
}

func newScope(parent *scope, kind scopeKind) *scope {
	s := &scope{
		parent:          parent,
		kind:            kind,
		defined:         map[*types.Resource]bool{},
		visible:         map[*types.Resource]bool{},
		importNames:     nameSet{},
		exportNames:     nameSet{},
		importResources: map[string]*types.Resource{},
		exportResources: map[string]*types.Resource{},
	}
	if parent != nil {
		s.depth = parent.depth + 1
	}
	return s
}

func outOfRange(off int64, sort Sort, idx uint32, n int) {
	bail(off, "%s index %d out of range (%d defined so far)", sort, idx, n)
}

// at returns list[idx], or bails naming sort when idx is out of range.
func at[T any](off int64, sort Sort, list []T, idx uint32) T {
	if idx >= uint32(len(list)) {
		outOfRange(off, sort, idx, len(list))
	}
	return list[idx]
}

// push appends v to the index space *list and returns its index.
func push[T any](list *[]T, v T) uint32 {
	*list = append(*list, v)
	return uint32(len(*list) - 1)
}

// outer returns the scope count levels up (0 is s itself).
func (s *scope) outer(off int64, count uint32) *scope {
	t := s
	for i := uint32(0); i < count; i++ {
		if t.parent == nil {
			bail(off, "outer alias count %d exceeds the %d enclosing scopes", count, i)
		}
		t = t.parent
	}
	return t
}

func (s *scope) coreModule(off int64, idx uint32) *ModuleType {
	return at(off, SortCoreModule, s.coreModules, idx)
}

func (s *scope) coreInstance(off int64, idx uint32) *CoreInstanceType {
	return at(off, SortCoreInstance, s.coreInstances, idx)
}

func (s *scope) coreTypeAt(off int64, idx uint32) coreTypeEntry {
	return at(off, SortCoreType, s.coreTypes, idx)
}

func (s *scope) coreFunc(off int64, idx uint32) FuncType {
	return at(off, SortCoreFunc, s.coreFuncs, idx)
}

func (s *scope) coreMemory(off int64, idx uint32) MemoryType {
	return at(off, SortCoreMemory, s.coreMemories, idx)
}

// coreItem returns the type of core item idx of sort, for the sorts a core
// instance can export; ok is false for the other sorts.
func (s *scope) coreItem(off int64, sort Sort, idx uint32) (e CoreExtern, ok bool) {
	switch sort {
	case SortCoreFunc:
		return CoreExtern{Kind: CoreFunc, Func: at(off, sort, s.coreFuncs, idx)}, true
	case SortCoreTable:
		return CoreExtern{Kind: CoreTable, Table: at(off, sort, s.coreTables, idx)}, true
	case SortCoreMemory:
		return CoreExtern{Kind: CoreMemory, Memory: at(off, sort, s.coreMemories, idx)}, true
	case SortCoreGlobal:
		return CoreExtern{Kind: CoreGlobal, Global: at(off, sort, s.coreGlobals, idx)}, true
	case SortCoreTag:
		return CoreExtern{Kind: CoreTag, Func: at(off, sort, s.coreTags, idx)}, true
	}
	return CoreExtern{}, false
}

// addCore appends a core item to the index space of its kind and returns its index.
func (s *scope) addCore(e CoreExtern) uint32 {
	switch e.Kind {
	case CoreFunc:
		return push(&s.coreFuncs, e.Func)
	case CoreTable:
		return push(&s.coreTables, e.Table)
	case CoreMemory:
		return push(&s.coreMemories, e.Memory)
	case CoreGlobal:
		return push(&s.coreGlobals, e.Global)
	case CoreTag:
		return push(&s.coreTags, e.Func)
	}
	panic("binary: addCore of unknown kind")
}

func (s *scope) funcAt(off int64, idx uint32) *types.Func { return at(off, SortFunc, s.funcs, idx) }

func (s *scope) typeAt(off int64, idx uint32) ExternType { return at(off, SortType, s.types, idx) }

func (s *scope) instanceAt(off int64, idx uint32) *InstanceType {
	return at(off, SortInstance, s.instances, idx)
}

func (s *scope) componentAt(off int64, idx uint32) *ComponentType {
	return at(off, SortComponent, s.components, idx)
}

// item returns the extern type of component item idx of sort (func, type,
// component, instance, or core module).
func (s *scope) item(off int64, sort Sort, idx uint32) ExternType {
	switch sort {
	case SortFunc:
		return ExternType{Kind: KindFunc, Func: s.funcAt(off, idx)}
	case SortType:
		return s.typeAt(off, idx)
	case SortComponent:
		return ExternType{Kind: KindComponent, Component: s.componentAt(off, idx)}
	case SortInstance:
		return ExternType{Kind: KindInstance, Instance: s.instanceAt(off, idx)}
	case SortCoreModule:
		return ExternType{Kind: KindModule, Module: s.coreModule(off, idx)}
	}
	bail(off, "%s cannot be imported, exported or passed to a component", article(sort.String()))
	return ExternType{}
}

// add appends an item to the index space of its kind and returns its index.
func (s *scope) add(e ExternType) uint32 {
	switch e.Kind {
	case KindFunc:
		return push(&s.funcs, e.Func)
	case KindType:
		return push(&s.types, e)
	case KindComponent:
		return push(&s.components, e.Component)
	case KindInstance:
		return push(&s.instances, e.Instance)
	case KindModule:
		return push(&s.coreModules, e.Module)
	}
	panic("binary: add of unknown extern kind")
}
