package abi

import (
	"context"
	"errors"
	"fmt"
	"io"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// maxTableLength is the canonical ABI's Table.MAX_LENGTH: handle indices stay
// below 2^28 so they can be packed with other bits.
const maxTableLength = 1<<28 - 1

// Instance is the canonical-ABI state of one component instance: its handle
// table and the may_leave / may_enter flags (CanonicalABI.md, "Component
// instance state"). One table holds every resource handle the guest can name,
// whether the resource is defined by the guest (the entry holds the guest's
// rep) or by the host (the entry holds the Go object behind it).
//
// An Instance is not safe for concurrent use: calls into one component
// instance are serialized (wazero requires that of its module instances too),
// and host functions run on the calling goroutine.
type Instance struct {
	table handleTable
	// mayLeave is false while the guest runs code that must not call out:
	// cabi_realloc and post-return. mayEnter is false while a call into the
	// instance is running, so the host cannot re-enter it from an import.
	mayLeave, mayEnter bool
	// guestResources holds the resource types this instance implements
	// (canon resource.new applies to them), with their destructors.
	guestResources map[*types.Resource]*guestResource
	// plans caches each function type's flattening, which every call needs.
	plans map[planKey]*funcPlan
	// hostResources maps a resource type as the component declares it (a
	// fresh *types.Resource per import) to the host's own *types.Resource
	// that the linker bound it to.
	hostResources map[*types.Resource]*types.Resource
}

// BindHostResources tells the instance which host resource each imported
// resource type stands for (declared → host), as the linker matched them. A
// host function's results carry the host's *types.Resource; lowering them
// as the component's declared type is then allowed, and the handle table
// records the declared type, which is what the guest's own types name.
// The map is shared, not copied: it must not change afterwards.
func (i *Instance) BindHostResources(declaredToHost map[*types.Resource]*types.Resource) {
	i.hostResources = declaredToHost
}

// sameResource reports whether a handle of resource have may be lowered as
// resource want.
func (i *Instance) sameResource(have, want *types.Resource) bool {
	return have == want || (have != nil && i.hostResources[want] == have)
}

type guestResource struct {
	dtor func(ctx context.Context, rep uint32) error
}

// NewInstance returns the state of a fresh component instance: an empty
// handle table (index 0 is never used) and both flags set.
func NewInstance() *Instance {
	return &Instance{
		table:          handleTable{entries: []*handleEntry{nil}},
		mayLeave:       true,
		mayEnter:       true,
		guestResources: map[*types.Resource]*guestResource{},
		plans:          map[planKey]*funcPlan{},
	}
}

// handleEntry is one slot of the handle table: the canonical ABI's
// ResourceHandle, extended with the Go object of a host resource.
type handleEntry struct {
	rt   *types.Resource
	rep  uint32 // the guest's rep, or the rep a host chose for a host resource
	host any    // the Go object of a host resource; nil for a guest resource
	own  bool
	// scope is the export call a borrow was lent into; nil for an own.
	scope *callScope
	// numLends counts the import calls this handle is currently lent to as a
	// borrow argument; an own cannot be dropped or moved meanwhile.
	numLends uint32
}

func (e *handleEntry) handle() types.Handle {
	return types.Handle{Resource: e.rt, Rep: e.rep, Host: e.host}
}

// handleTable is the canonical ABI's Table: index 0 reserved, freed indices
// reused last-in first-out.
type handleTable struct {
	entries []*handleEntry
	free    []uint32
}

func (t *handleTable) get(i uint32) (*handleEntry, error) {
	if uint64(i) >= uint64(len(t.entries)) || t.entries[i] == nil {
		return nil, trapf("handle %d does not exist (never created, or already dropped or moved)", i)
	}
	return t.entries[i], nil
}

func (t *handleTable) add(e *handleEntry) (uint32, error) {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		t.entries[i] = e
		return i, nil
	}
	i := len(t.entries)
	if i > maxTableLength {
		return 0, trapf("handle table is full (%d handles): the guest is not dropping its handles", maxTableLength)
	}
	t.entries = append(t.entries, e)
	return uint32(i), nil
}

func (t *handleTable) remove(i uint32) {
	t.entries[i] = nil
	t.free = append(t.free, i)
}

// getTyped returns the entry at i after checking it is a handle to rt.
func (t *handleTable) getTyped(rt *types.Resource, i uint32) (*handleEntry, error) {
	e, err := t.get(i)
	if err != nil {
		return nil, err
	}
	if e.rt != rt {
		return nil, trapf("handle %d is a handle to resource %s, not to %s", i, resourceName(e.rt), resourceName(rt))
	}
	return e, nil
}

func resourceName(rt *types.Resource) string {
	if rt == nil {
		return "<nil>"
	}
	if rt.Interface != "" {
		return fmt.Sprintf("%q (%s)", rt.Name, rt.Interface)
	}
	return fmt.Sprintf("%q", rt.Name)
}

// callScope is the per-call state of one lifted or lowered call: for an
// export call (canon lift), the borrows lent into the guest, which must all
// be dropped before it returns; for an import call (canon lower), the
// handles the guest lent to the host as borrow arguments.
type callScope struct {
	numBorrows int
	borrowed   []uint32 // indices of borrow entries created for this export call
	lenders    []*handleEntry
}

// endExportScope removes whatever borrow entries of scope are still in the
// table, so that after a trapped call the next one starts clean.
func (i *Instance) endExportScope(scope *callScope) {
	for _, idx := range scope.borrowed {
		if int(idx) < len(i.table.entries) {
			if e := i.table.entries[idx]; e != nil && e.scope == scope {
				i.table.remove(idx)
			}
		}
	}
}

// endImportScope returns the handles lent for an import call
// (deliver_resolve in the canonical ABI).
func endImportScope(scope *callScope) {
	for _, e := range scope.lenders {
		e.numLends--
	}
	scope.lenders = nil
}

// SetDestructor registers rt as a resource type this instance implements and
// dtor as its destructor, run when an owned handle to rt is dropped; dtor may
// be nil for a resource without one. dtor should call the guest's core dtor
// function directly (api.Function.Call), not through CallExport: a drop
// happens while a call into the instance is running, and CallExport would
// refuse that as re-entrance. ResourceNew also marks rt as implemented here,
// so only resources with a destructor need this call.
func (i *Instance) SetDestructor(rt *types.Resource, dtor func(ctx context.Context, rep uint32) error) {
	i.guestResource(rt).dtor = dtor
}

func (i *Instance) guestResource(rt *types.Resource) *guestResource {
	g := i.guestResources[rt]
	if g == nil {
		g = &guestResource{}
		i.guestResources[rt] = g
	}
	return g
}

// ResourceNew is canon resource.new: it creates an owned handle to rt (a
// resource this instance implements) whose rep is rep, and returns its index.
func (i *Instance) ResourceNew(rt *types.Resource, rep uint32) (uint32, error) {
	if !i.mayLeave {
		return 0, trapf("resource.new of %s called from cabi_realloc or post-return, which may not call out", resourceName(rt))
	}
	i.guestResource(rt)
	return i.table.add(&handleEntry{rt: rt, rep: rep, own: true})
}

// ResourceRep is canon resource.rep: the rep behind handle h to rt.
func (i *Instance) ResourceRep(rt *types.Resource, h uint32) (uint32, error) {
	e, err := i.table.getTyped(rt, h)
	if err != nil {
		return 0, fmt.Errorf("resource.rep: %w", err)
	}
	return e.rep, nil
}

// ResourceDrop is canon resource.drop of handle h to rt. Dropping an own runs
// the destructor: the guest's (see SetDestructor) for a resource this instance
// implements, Close for a host resource whose object is an io.Closer.
// Dropping a borrow ends it. A wrong resource type, an unknown or already
// dropped handle, and an own that is currently lent are Traps; the handle
// stays in the table then. An error from a host object's Close is returned
// as is (not a Trap: the guest did nothing wrong); the handle is gone anyway.
func (i *Instance) ResourceDrop(ctx context.Context, rt *types.Resource, h uint32) error {
	if !i.mayLeave {
		return trapf("resource.drop of %s called from cabi_realloc or post-return, which may not call out", resourceName(rt))
	}
	e, err := i.table.getTyped(rt, h)
	if err != nil {
		return fmt.Errorf("resource.drop: %w", err)
	}
	if e.numLends != 0 {
		return trapf("resource.drop: handle %d to %s is lent to a call that has not returned", h, resourceName(rt))
	}
	i.table.remove(h)
	if !e.own {
		e.scope.numBorrows--
		return nil
	}
	if e.host != nil {
		if c, ok := e.host.(io.Closer); ok {
			if err := c.Close(); err != nil {
				return fmt.Errorf("closing host resource %s (handle %d): %w", resourceName(rt), h, err)
			}
		}
		return nil
	}
	if g := i.guestResources[rt]; g != nil && g.dtor != nil {
		if err := g.dtor(ctx, e.rep); err != nil {
			var trap *Trap
			if errors.As(err, &trap) {
				return err
			}
			return &Trap{Message: fmt.Sprintf("destructor of %s (rep %d) failed", resourceName(rt), e.rep), Cause: err}
		}
	}
	return nil
}

// Close drops every handle left in the table, calling Close on each owned
// host resource object that is an io.Closer, and joins their errors. Guest
// destructors do not run: the guest instance is going away with its memory.
// The Instance is empty afterwards.
func (i *Instance) Close(ctx context.Context) error {
	var errs []error
	for idx, e := range i.table.entries {
		if e == nil || !e.own || e.host == nil {
			continue
		}
		if c, ok := e.host.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing host resource %s (handle %d): %w", resourceName(e.rt), idx, err))
			}
		}
	}
	i.table = handleTable{entries: []*handleEntry{nil}}
	return errors.Join(errs...)
}
