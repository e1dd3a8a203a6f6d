package component

import (
	"fmt"
	"strconv"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/sandbox/component/internal/binary"
	"tapedeck.dev/tapedeck/sandbox/component/internal/coregen"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// The linker turns a validated component into a plan: the core instances to
// create, in order, each with the instances its imports come from; the host
// functions its canon lowers and resource built-ins become; and where each
// export's core function and options live. Everything about a component's
// instantiation graph is static (arguments are indices, not run-time values),
// so the plan is built once per component and each Instance only replays it.
// Nested components are inlined: instantiating one is planning its
// definitions in a scope whose imports are bound to the arguments.

// hostStep marks a coreRef served by the component's host module (a canon
// lower or a resource built-in) rather than by a core instance.
const hostStep = -1

// coreRef names a core item: the export Name of core instance Step (an
// index into plan.steps), or function Name of the host module.
type coreRef struct {
	Step int
	Name string
	Type binary.CoreExtern
}

// step is one core instance of the plan: a module instantiated with, for
// each import module name, the step whose instance satisfies it.
type step struct {
	module *planModule
	args   map[string]int // import module name → step
	// hostArgs lists import module names served by the host module (only
	// generated modules import from it, by its registered name).
	where int64 // byte offset of the definition, for errors
}

// planModule is a core module to compile: an embedded one, or one the
// linker generated for an instance built from exports.
type planModule struct {
	bytes     []byte // after renaming the empty import module name
	generated bool
	def       *binary.CoreModule // nil for generated modules
	index     int                // in plan.modules
}

// dataSize returns the size of the module's data section.
func (m *planModule) dataSize() uint32 {
	if m.def == nil {
		return 0
	}
	return m.def.Module.DataSize
}

// hostCall is one function of the component's host module.
type hostCall struct {
	kind binary.CanonKind // CanonLower or a resource built-in
	sig  binary.FuncType  // its core signature
	// For CanonLower: what it calls and how.
	callee *compFunc
	opts   optsPlan
	typ    *types.Func
	// For resource built-ins: the resource type.
	resource *types.Resource
	where    int64
}

// optsPlan are canonical options with their core items located.
type optsPlan struct {
	encoding   binary.StringEncoding
	memory     *coreRef
	realloc    *coreRef
	postReturn *coreRef
}

// compFunc is a component-level function: lifted from a core function, or
// provided by the host.
type compFunc struct {
	typ *types.Func
	// lifted
	core *coreRef
	opts optsPlan
	// host-provided
	host     *HostFunc
	hostName string // "wasi:cli/stdout@0.2.3#get-stdout", for messages
}

// compInstance is a component instance: named items.
type compInstance struct {
	names []string
	items map[string]compItem
}

// compItem is an item of a component-level index space.
type compItem struct {
	sort     binary.Sort
	fn       *compFunc
	inst     *compInstance
	comp     *compDef
	module   *planModule
	typ      binary.ExternType
	resource *types.Resource // for type items that are resources
}

// compDef is a component definition and the scope it was defined in (for
// outer aliases).
type compDef struct {
	c     *binary.Component
	outer *scope
}

// dtorPlan binds a guest resource to its destructor.
type dtorPlan struct {
	resource *types.Resource
	fn       coreRef
}

// plan is the result of linking.
type plan struct {
	modules []*planModule
	steps   []step
	host    []hostCall
	dtors   []dtorPlan
	starts  []*compFunc
	exports *compInstance // the top-level component's exports
	// hostModuleName is the name the host module is registered under in the
	// wazero runtime; generated modules import from it by that name.
	hostModuleName string
	// hostResources maps each resource type the component imports to the
	// host resource it was bound to.
	hostResources map[*types.Resource]*types.Resource
}

// scope holds the index spaces of one component being planned.
type scope struct {
	outer *scope
	c     *binary.Component
	args  map[string]compItem // a nested component's arguments, by import name

	coreFuncs, coreTables, coreMemories, coreGlobals []coreRef
	coreModules                                      []*planModule
	coreInstances                                    []int // step index; -1 never happens
	coreInstanceTypes                                []*binary.CoreInstanceType
	funcs                                            []*compFunc
	types                                            []compItem
	components                                       []*compDef
	instances                                        []*compInstance
}

// linker builds a plan.
type linker struct {
	p       *plan
	hosts   *Registry
	modules map[*binary.CoreModule]*planModule
	subst   map[*types.Resource]*types.Resource // declared (import) resource → host resource
}

// emptyModuleName replaces the empty import module name, which wazero refuses.
const emptyModuleName = "tapedeck:empty-module-name"

// LinkError reports a component that cannot be linked against this host:
// an import nobody provides, or one whose type differs from the host's.
type LinkError struct {
	Import string // the import's name, such as "wasi:http/outgoing-handler@0.2.0"
	Func   string // the function within it, when one is to blame
	Reason string
}

func (e *LinkError) Error() string {
	name := e.Import
	if e.Func != "" {
		name += "#" + e.Func
	}
	return fmt.Sprintf("import %s: %s", name, e.Reason)
}

func link(c *binary.Component, hosts *Registry, hostModuleName string) (*plan, error) {
	l := &linker{
		p:       &plan{hostModuleName: hostModuleName},
		hosts:   hosts,
		modules: map[*binary.CoreModule]*planModule{},
		subst:   map[*types.Resource]*types.Resource{},
	}
	s := &scope{c: c}
	if err := l.run(s); err != nil {
		return nil, err
	}
	exports, err := l.exportsOf(s)
	if err != nil {
		return nil, err
	}
	l.p.exports = exports
	l.p.hostResources = l.subst
	return l.p, nil
}

func (l *linker) run(s *scope) error {
	for _, d := range s.c.Defs {
		if err := l.def(s, d); err != nil {
			return err
		}
	}
	return nil
}

func posErr(d binary.Definition, format string, a ...any) error {
	return fmt.Errorf("component: at byte offset %#x: %s", d.Pos(), fmt.Sprintf(format, a...))
}

func (l *linker) def(s *scope, d binary.Definition) error {
	switch d := d.(type) {
	case *binary.CoreModule:
		s.coreModules = append(s.coreModules, l.module(d))
	case *binary.CoreInstance:
		return l.coreInstance(s, d)
	case *binary.CoreTypeDef:
		// Types only matter to validation.
	case *binary.NestedComponent:
		s.components = append(s.components, &compDef{c: d.Component, outer: s})
	case *binary.Instance:
		return l.instance(s, d)
	case *binary.Alias:
		return l.alias(s, d)
	case *binary.TypeDef:
		item := compItem{sort: binary.SortType, typ: d.Type, resource: d.Type.Resource}
		if d.HasDtor {
			l.p.dtors = append(l.p.dtors, dtorPlan{resource: d.Type.Resource, fn: s.coreFuncs[d.Dtor]})
		}
		s.types = append(s.types, item)
	case *binary.Canon:
		return l.canon(s, d)
	case *binary.Start:
		l.p.starts = append(l.p.starts, s.funcs[d.Func])
	case *binary.Import:
		item, err := l.importItem(s, d)
		if err != nil {
			return err
		}
		s.push(item)
	case *binary.Export:
		item, err := s.get(d.Sort, d.Index)
		if err != nil {
			return posErr(d, "%v", err)
		}
		s.push(item)
	default:
		return posErr(d, "the linker does not handle %T", d)
	}
	return nil
}

func (l *linker) module(d *binary.CoreModule) *planModule {
	if m, ok := l.modules[d]; ok {
		return m
	}
	bytes := d.Bytes
	for _, imp := range d.Module.Imports {
		if imp.Module == "" {
			if renamed, changed, err := coregen.RenameImportModules(d.Bytes, map[string]string{"": emptyModuleName}); err == nil && changed {
				bytes = renamed
			}
			break
		}
	}
	m := &planModule{bytes: bytes, def: d, index: len(l.p.modules)}
	l.p.modules = append(l.p.modules, m)
	l.modules[d] = m
	return m
}

func (l *linker) coreInstance(s *scope, d *binary.CoreInstance) error {
	if d.Instantiate != nil {
		st := step{module: s.coreModules[d.Instantiate.Module], args: map[string]int{}, where: d.Offset}
		for _, a := range d.Instantiate.Args {
			name := a.Name
			if name == "" {
				name = emptyModuleName
			}
			st.args[name] = s.coreInstances[a.Instance]
		}
		s.coreInstances = append(s.coreInstances, len(l.p.steps))
		s.coreInstanceTypes = append(s.coreInstanceTypes, d.Type)
		l.p.steps = append(l.p.steps, st)
		return nil
	}
	// An instance built from exports becomes a generated module that
	// imports each item from where it lives and exports it under its name.
	var items []coregen.Item
	args := map[string]int{}
	for _, e := range d.Exports {
		var ref coreRef
		switch e.Sort {
		case binary.SortCoreFunc:
			ref = s.coreFuncs[e.Index]
		case binary.SortCoreTable:
			ref = s.coreTables[e.Index]
		case binary.SortCoreMemory:
			ref = s.coreMemories[e.Index]
		case binary.SortCoreGlobal:
			ref = s.coreGlobals[e.Index]
		default:
			return posErr(d, "a core instance cannot export a %v", e.Sort)
		}
		it := coregen.Item{Kind: coregen.Kind(ref.Type.Kind), Name: ref.Name, Export: e.Name}
		if ref.Step == hostStep {
			it.Module = l.p.hostModuleName
		} else {
			it.Module = "s" + strconv.Itoa(ref.Step)
			args[it.Module] = ref.Step
		}
		switch ref.Type.Kind {
		case binary.CoreFunc:
			it.Params, it.Results = ref.Type.Func.Params, ref.Type.Func.Results
		case binary.CoreGlobal:
			it.GlobalType, it.GlobalMutable = ref.Type.Global.Type, ref.Type.Global.Mutable
		case binary.CoreTable:
			it.TableElem = ref.Type.Table.Elem
		}
		items = append(items, it)
	}
	m := &planModule{bytes: coregen.ReExport(items), generated: true, index: len(l.p.modules)}
	l.p.modules = append(l.p.modules, m)
	s.coreInstances = append(s.coreInstances, len(l.p.steps))
	s.coreInstanceTypes = append(s.coreInstanceTypes, d.Type)
	l.p.steps = append(l.p.steps, step{module: m, args: args, where: d.Offset})
	return nil
}

func (l *linker) alias(s *scope, d *binary.Alias) error {
	switch d.Kind {
	case binary.AliasCoreInstanceExport:
		ref := coreRef{Step: s.coreInstances[d.Instance], Name: d.Name, Type: d.Core}
		switch d.Sort {
		case binary.SortCoreFunc:
			s.coreFuncs = append(s.coreFuncs, ref)
		case binary.SortCoreTable:
			s.coreTables = append(s.coreTables, ref)
		case binary.SortCoreMemory:
			s.coreMemories = append(s.coreMemories, ref)
		case binary.SortCoreGlobal:
			s.coreGlobals = append(s.coreGlobals, ref)
		default:
			return posErr(d, "aliasing a core %v is not supported", d.Sort)
		}
	case binary.AliasInstanceExport:
		inst := s.instances[d.Instance]
		item, ok := inst.items[d.Name]
		if !ok {
			return posErr(d, "instance %d has no export %q", d.Instance, d.Name)
		}
		s.push(item)
	case binary.AliasOuter:
		o := s
		for i := uint32(0); i < d.OuterCount; i++ {
			if o.outer == nil {
				return posErr(d, "outer alias %d levels up leaves the outermost component", d.OuterCount)
			}
			o = o.outer
		}
		item, err := o.get(d.Sort, d.OuterIndex)
		if err != nil {
			return posErr(d, "%v", err)
		}
		s.push(item)
	}
	return nil
}

func (l *linker) canon(s *scope, d *binary.Canon) error {
	switch d.Kind {
	case binary.CanonLift:
		core := s.coreFuncs[d.CoreFunc]
		s.funcs = append(s.funcs, &compFunc{typ: d.Type, core: &core, opts: s.opts(d.Options)})
	case binary.CanonLower:
		callee := s.funcs[d.Func]
		s.coreFuncs = append(s.coreFuncs, l.hostFunc(hostCall{kind: d.Kind, sig: d.CoreType, callee: callee, opts: s.opts(d.Options), typ: d.Type, where: d.Offset}))
	case binary.CanonResourceNew, binary.CanonResourceDrop, binary.CanonResourceRep:
		s.coreFuncs = append(s.coreFuncs, l.hostFunc(hostCall{kind: d.Kind, sig: d.CoreType, resource: d.Resource, where: d.Offset}))
	default:
		return posErr(d, "%v is not supported", d.Kind)
	}
	return nil
}

func (l *linker) hostFunc(h hostCall) coreRef {
	name := "f" + strconv.Itoa(len(l.p.host))
	l.p.host = append(l.p.host, h)
	return coreRef{Step: hostStep, Name: name, Type: binary.CoreExtern{Kind: binary.CoreFunc, Func: h.sig}}
}

func (s *scope) opts(o binary.CanonOptions) optsPlan {
	p := optsPlan{encoding: o.StringEncoding}
	if o.HasMemory {
		r := s.coreMemories[o.Memory]
		p.memory = &r
	}
	if o.HasRealloc {
		r := s.coreFuncs[o.Realloc]
		p.realloc = &r
	}
	if o.HasPostReturn {
		r := s.coreFuncs[o.PostReturn]
		p.postReturn = &r
	}
	return p
}

func (l *linker) instance(s *scope, d *binary.Instance) error {
	if d.Instantiate == nil {
		inst := &compInstance{items: map[string]compItem{}}
		for _, e := range d.Exports {
			item, err := s.get(e.Sort, e.Index)
			if err != nil {
				return posErr(d, "%v", err)
			}
			inst.add(e.Name, item)
		}
		s.instances = append(s.instances, inst)
		return nil
	}
	def := s.components[d.Instantiate.Component]
	ns := &scope{outer: def.outer, c: def.c, args: map[string]compItem{}}
	for _, a := range d.Instantiate.Args {
		item, err := s.get(a.Sort, a.Index)
		if err != nil {
			return posErr(d, "argument %q: %v", a.Name, err)
		}
		ns.args[a.Name] = item
	}
	if err := l.run(ns); err != nil {
		return err
	}
	exports, err := l.exportsOf(ns)
	if err != nil {
		return err
	}
	// The nested component's export types name its own imported resources;
	// the instance's type (from the validator) has them replaced by the
	// arguments', which is what this scope's types refer to.
	if d.Type != nil {
		for _, name := range exports.names {
			item := exports.items[name]
			if et, ok := d.Type.Export(name); ok {
				exports.items[name] = retype(item, et)
			}
		}
	}
	s.instances = append(s.instances, exports)
	return nil
}

// retype gives an item the type its instance's resolved type says it has.
func retype(item compItem, et binary.ExternType) compItem {
	switch {
	case item.fn != nil && et.Kind == binary.KindFunc:
		fn := *item.fn
		fn.typ = et.Func
		item.fn = &fn
	case item.inst != nil && et.Kind == binary.KindInstance:
		inst := &compInstance{names: item.inst.names, items: map[string]compItem{}}
		for _, n := range item.inst.names {
			sub := item.inst.items[n]
			if st, ok := et.Instance.Export(n); ok {
				sub = retype(sub, st)
			}
			inst.items[n] = sub
		}
		item.inst = inst
	case et.Kind == binary.KindType:
		item.typ, item.resource = et, et.Resource
	}
	item.typ = et
	return item
}

// exportsOf collects the items a planned scope exports.
func (l *linker) exportsOf(s *scope) (*compInstance, error) {
	inst := &compInstance{items: map[string]compItem{}}
	for _, d := range s.c.Defs {
		e, ok := d.(*binary.Export)
		if !ok {
			continue
		}
		item, err := s.get(e.Sort, e.NewIndex)
		if err != nil {
			return nil, posErr(d, "%v", err)
		}
		if e.Type.Kind == binary.KindFunc && item.fn != nil {
			// The export's ascribed type names the types as the exporter
			// sees them; keep the lifted function's layout but that naming.
			fn := *item.fn
			fn.typ = e.Type.Func
			item.fn = &fn
		}
		inst.add(e.Name, item)
	}
	return inst, nil
}

// importItem binds an import: to a nested component's argument, or, at the
// top level, to a host interface.
func (l *linker) importItem(s *scope, d *binary.Import) (compItem, error) {
	if s.args != nil {
		item, ok := s.args[d.Name]
		if !ok {
			return compItem{}, posErr(d, "nested component import %q has no argument", d.Name)
		}
		return item, nil
	}
	if d.Type.Kind == binary.KindType {
		if d.Type.Resource == nil {
			// A type import with an equality bound is just a name for a
			// type the component already has.
			return compItem{sort: binary.SortType, typ: d.Type}, nil
		}
		return compItem{}, &LinkError{Import: d.Name, Reason: "the host provides no resource type by this name"}
	}
	if d.Type.Kind != binary.KindInstance {
		return compItem{}, &LinkError{Import: d.Name, Reason: fmt.Sprintf("only instance imports can be provided by the host, not a %v", d.Type.Kind)}
	}
	hi := l.hosts.Lookup(d.Name)
	if hi == nil {
		return compItem{}, &LinkError{Import: d.Name, Reason: "no host interface provides it (Tapedeck serves WASI 0.2 and its own interfaces; see `tapedeck inspect` for what the component needs)"}
	}
	inst := &compInstance{items: map[string]compItem{}}
	// Resources first: function types refer to them.
	for _, e := range d.Type.Instance.Exports {
		if e.Type.Kind != binary.KindType {
			continue
		}
		if r := e.Type.Resource; r != nil {
			if _, done := l.subst[r]; !done {
				hr, ok := hi.Resources[e.Name]
				if !ok {
					return compItem{}, &LinkError{Import: d.Name, Func: e.Name, Reason: "the host interface defines no such resource"}
				}
				l.subst[r] = hr
			}
		}
		inst.add(e.Name, compItem{sort: binary.SortType, typ: e.Type, resource: e.Type.Resource})
	}
	for _, e := range d.Type.Instance.Exports {
		switch e.Type.Kind {
		case binary.KindType:
			continue
		case binary.KindFunc:
			hf, ok := hi.Funcs[e.Name]
			if !ok {
				return compItem{}, &LinkError{Import: d.Name, Func: e.Name, Reason: "the host interface has no such function"}
			}
			if !l.equalFunc(e.Type.Func, hf.Type) {
				return compItem{}, &LinkError{Import: d.Name, Func: e.Name,
					Reason: fmt.Sprintf("the component expects %s but the host provides %s", e.Type.Func, hf.Type)}
			}
			inst.add(e.Name, compItem{sort: binary.SortFunc, typ: e.Type, fn: &compFunc{typ: e.Type.Func, host: &hf, hostName: d.Name + "#" + e.Name}})
		default:
			return compItem{}, &LinkError{Import: d.Name, Func: e.Name, Reason: fmt.Sprintf("a host interface cannot provide a %v", e.Type.Kind)}
		}
	}
	return compItem{sort: binary.SortInstance, typ: d.Type, inst: inst}, nil
}

func (l *linker) equalFunc(declared, host *types.Func) bool {
	if len(declared.Params) != len(host.Params) || len(declared.Results) != len(host.Results) {
		return false
	}
	for i := range declared.Params {
		if declared.Params[i].Name != host.Params[i].Name || !l.equalType(declared.Params[i].Type, host.Params[i].Type) {
			return false
		}
	}
	for i := range declared.Results {
		if declared.Results[i].Name != host.Results[i].Name || !l.equalType(declared.Results[i].Type, host.Results[i].Type) {
			return false
		}
	}
	return true
}

// equalType is types.Equal with the component's imported resources mapped
// to the host's.
func (l *linker) equalType(d, h *types.Type) bool {
	if d == nil || h == nil {
		return d == h
	}
	if d.Kind != h.Kind {
		return false
	}
	switch d.Kind {
	case types.List, types.Option:
		return l.equalType(d.Elem, h.Elem)
	case types.Record, types.Tuple:
		if len(d.Fields) != len(h.Fields) {
			return false
		}
		for i := range d.Fields {
			if d.Fields[i].Name != h.Fields[i].Name || !l.equalType(d.Fields[i].Type, h.Fields[i].Type) {
				return false
			}
		}
		return true
	case types.Variant:
		if len(d.Cases) != len(h.Cases) {
			return false
		}
		for i := range d.Cases {
			if d.Cases[i].Name != h.Cases[i].Name || !l.equalType(d.Cases[i].Type, h.Cases[i].Type) {
				return false
			}
		}
		return true
	case types.Result:
		return l.equalType(d.OK, h.OK) && l.equalType(d.Err, h.Err)
	case types.Own, types.Borrow:
		if m, ok := l.subst[d.Resource]; ok {
			return m == h.Resource
		}
		return d.Resource == h.Resource
	}
	return types.Equal(d, h)
}

func (inst *compInstance) add(name string, item compItem) {
	if _, dup := inst.items[name]; !dup {
		inst.names = append(inst.names, name)
	}
	inst.items[name] = item
}

// push adds item to the index space of its sort.
func (s *scope) push(item compItem) {
	switch item.sort {
	case binary.SortFunc:
		s.funcs = append(s.funcs, item.fn)
	case binary.SortInstance:
		s.instances = append(s.instances, item.inst)
	case binary.SortComponent:
		s.components = append(s.components, item.comp)
	case binary.SortType:
		s.types = append(s.types, item)
	case binary.SortCoreModule:
		s.coreModules = append(s.coreModules, item.module)
	}
}

// get returns item idx of the index space of sort.
func (s *scope) get(sort binary.Sort, idx uint32) (compItem, error) {
	oob := func(n int) error {
		return fmt.Errorf("%v index %d out of range (%d defined)", sort, idx, n)
	}
	switch sort {
	case binary.SortFunc:
		if int(idx) >= len(s.funcs) {
			return compItem{}, oob(len(s.funcs))
		}
		f := s.funcs[idx]
		return compItem{sort: sort, fn: f, typ: binary.ExternType{Kind: binary.KindFunc, Func: f.typ}}, nil
	case binary.SortInstance:
		if int(idx) >= len(s.instances) {
			return compItem{}, oob(len(s.instances))
		}
		return compItem{sort: sort, inst: s.instances[idx]}, nil
	case binary.SortComponent:
		if int(idx) >= len(s.components) {
			return compItem{}, oob(len(s.components))
		}
		return compItem{sort: sort, comp: s.components[idx]}, nil
	case binary.SortType:
		if int(idx) >= len(s.types) {
			return compItem{}, oob(len(s.types))
		}
		return s.types[idx], nil
	case binary.SortCoreModule:
		if int(idx) >= len(s.coreModules) {
			return compItem{}, oob(len(s.coreModules))
		}
		return compItem{sort: sort, module: s.coreModules[idx]}, nil
	}
	return compItem{}, fmt.Errorf("items of sort %v cannot be passed between components here", sort)
}

// flatSig returns the wazero signature of a core function type.
func flatSig(t binary.FuncType) (params, results []api.ValueType) { return t.Params, t.Results }
