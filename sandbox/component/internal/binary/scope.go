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
	if idx >= uint32(len(s.coreModules)) {
		outOfRange(off, SortCoreModule, idx, len(s.coreModules))
	}
	return s.coreModules[idx]
}

func (s *scope) coreInstance(off int64, idx uint32) *CoreInstanceType {
	if idx >= uint32(len(s.coreInstances)) {
		outOfRange(off, SortCoreInstance, idx, len(s.coreInstances))
	}
	return s.coreInstances[idx]
}

func (s *scope) coreTypeAt(off int64, idx uint32) coreTypeEntry {
	if idx >= uint32(len(s.coreTypes)) {
		outOfRange(off, SortCoreType, idx, len(s.coreTypes))
	}
	return s.coreTypes[idx]
}

func (s *scope) coreFunc(off int64, idx uint32) FuncType {
	if idx >= uint32(len(s.coreFuncs)) {
		outOfRange(off, SortCoreFunc, idx, len(s.coreFuncs))
	}
	return s.coreFuncs[idx]
}

func (s *scope) coreMemory(off int64, idx uint32) MemoryType {
	if idx >= uint32(len(s.coreMemories)) {
		outOfRange(off, SortCoreMemory, idx, len(s.coreMemories))
	}
	return s.coreMemories[idx]
}

// coreItem returns the type of core item idx of sort, for the sorts a core
// instance can export; ok is false for the other sorts.
func (s *scope) coreItem(off int64, sort Sort, idx uint32) (e CoreExtern, ok bool) {
	check := func(n int) {
		if idx >= uint32(n) {
			outOfRange(off, sort, idx, n)
		}
	}
	switch sort {
	case SortCoreFunc:
		check(len(s.coreFuncs))
		return CoreExtern{Kind: CoreFunc, Func: s.coreFuncs[idx]}, true
	case SortCoreTable:
		check(len(s.coreTables))
		return CoreExtern{Kind: CoreTable, Table: s.coreTables[idx]}, true
	case SortCoreMemory:
		check(len(s.coreMemories))
		return CoreExtern{Kind: CoreMemory, Memory: s.coreMemories[idx]}, true
	case SortCoreGlobal:
		check(len(s.coreGlobals))
		return CoreExtern{Kind: CoreGlobal, Global: s.coreGlobals[idx]}, true
	case SortCoreTag:
		check(len(s.coreTags))
		return CoreExtern{Kind: CoreTag, Func: s.coreTags[idx]}, true
	}
	return CoreExtern{}, false
}

// addCore appends a core item to the index space of its kind and returns its index.
func (s *scope) addCore(e CoreExtern) uint32 {
	switch e.Kind {
	case CoreFunc:
		s.coreFuncs = append(s.coreFuncs, e.Func)
		return uint32(len(s.coreFuncs) - 1)
	case CoreTable:
		s.coreTables = append(s.coreTables, e.Table)
		return uint32(len(s.coreTables) - 1)
	case CoreMemory:
		s.coreMemories = append(s.coreMemories, e.Memory)
		return uint32(len(s.coreMemories) - 1)
	case CoreGlobal:
		s.coreGlobals = append(s.coreGlobals, e.Global)
		return uint32(len(s.coreGlobals) - 1)
	case CoreTag:
		s.coreTags = append(s.coreTags, e.Func)
		return uint32(len(s.coreTags) - 1)
	}
	panic("binary: addCore of unknown kind")
}

func (s *scope) funcAt(off int64, idx uint32) *types.Func {
	if idx >= uint32(len(s.funcs)) {
		outOfRange(off, SortFunc, idx, len(s.funcs))
	}
	return s.funcs[idx]
}

func (s *scope) typeAt(off int64, idx uint32) ExternType {
	if idx >= uint32(len(s.types)) {
		outOfRange(off, SortType, idx, len(s.types))
	}
	return s.types[idx]
}

func (s *scope) instanceAt(off int64, idx uint32) *InstanceType {
	if idx >= uint32(len(s.instances)) {
		outOfRange(off, SortInstance, idx, len(s.instances))
	}
	return s.instances[idx]
}

func (s *scope) componentAt(off int64, idx uint32) *ComponentType {
	if idx >= uint32(len(s.components)) {
		outOfRange(off, SortComponent, idx, len(s.components))
	}
	return s.components[idx]
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
		s.funcs = append(s.funcs, e.Func)
		return uint32(len(s.funcs) - 1)
	case KindType:
		s.types = append(s.types, e)
		return uint32(len(s.types) - 1)
	case KindComponent:
		s.components = append(s.components, e.Component)
		return uint32(len(s.components) - 1)
	case KindInstance:
		s.instances = append(s.instances, e.Instance)
		return uint32(len(s.instances) - 1)
	case KindModule:
		s.coreModules = append(s.coreModules, e.Module)
		return uint32(len(s.coreModules) - 1)
	}
	panic("binary: add of unknown extern kind")
}
