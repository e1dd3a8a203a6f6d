package abi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

func wantTrap(t *testing.T, err error, msg string) {
	t.Helper()
	var trap *Trap
	if !errors.As(err, &trap) {
		t.Fatalf("got error %v, want a *Trap", err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q does not say %q", err, msg)
	}
}

// TestGuestResourceLifecycle follows a resource the guest implements: created
// with resource.new, returned to the host as an own, passed back as a borrow
// (which arrives as the rep) and as an own, and dropped, running its dtor.
func TestGuestResourceLifecycle(t *testing.T) {
	g := newGuest(t)
	var destroyed []uint32
	g.inst.SetDestructor(testGuestResource, func(_ context.Context, rep uint32) error {
		destroyed = append(destroyed, rep)
		return nil
	})
	own, borrow := types.OwnOf(testGuestResource), types.BorrowOf(testGuestResource)

	got, err := g.call("res_new", fn1(types.U32Type, own), uint32(42))
	if err != nil {
		t.Fatal(err)
	}
	h := got[0].(types.Handle)
	if h != (types.Handle{Resource: testGuestResource, Rep: 42}) {
		t.Fatalf("res_new returned %#v, want rep 42", h)
	}
	if n := g.inst.liveHandles(); n != 0 {
		t.Fatalf("%d handles in the table after the own moved out, want 0", n)
	}

	got, err = g.call("rep_plus_one", fn1(borrow, types.U32Type), h)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != uint32(43) {
		t.Fatalf("a borrow of the guest's own resource should arrive as its rep: got %v, want 43", got[0])
	}

	got, err = g.call("res_rep", fn1(own, types.U32Type), h)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != uint32(42) {
		t.Fatalf("resource.rep gave %v, want 42", got[0])
	}
	if n := g.inst.liveHandles(); n != 1 {
		t.Fatalf("%d handles in the table after passing an own in, want 1", n)
	}

	if _, err := g.call("res_drop", fn1(own, nil), h); err != nil {
		t.Fatal(err)
	}
	if len(destroyed) != 1 || destroyed[0] != 42 {
		t.Fatalf("destructor calls %v, want [42]", destroyed)
	}
}

func TestResourceBuiltinTraps(t *testing.T) {
	ctx := context.Background()
	other := &types.Resource{Name: "other"}
	tests := []struct {
		name string
		run  func(i *Instance) error
		want string
	}{
		{
			name: "double_drop",
			run: func(i *Instance) error {
				h, _ := i.ResourceNew(testGuestResource, 1)
				if err := i.ResourceDrop(ctx, testGuestResource, h); err != nil {
					return err
				}
				return i.ResourceDrop(ctx, testGuestResource, h)
			},
			want: "handle 1 does not exist",
		},
		{
			name: "rep_wrong_type",
			run: func(i *Instance) error {
				h, _ := i.ResourceNew(testGuestResource, 1)
				_, err := i.ResourceRep(other, h)
				return err
			},
			want: `handle 1 is a handle to resource "guest-thing", not to "other"`,
		},
		{
			name: "drop_wrong_type",
			run: func(i *Instance) error {
				h, _ := i.ResourceNew(testGuestResource, 1)
				return i.ResourceDrop(ctx, other, h)
			},
			want: "not to \"other\"",
		},
		{
			name: "handle_zero_reserved",
			run:  func(i *Instance) error { _, err := i.ResourceRep(testGuestResource, 0); return err },
			want: "handle 0 does not exist",
		},
		{
			name: "use_after_drop",
			run: func(i *Instance) error {
				h, _ := i.ResourceNew(testGuestResource, 1)
				_ = i.ResourceDrop(ctx, testGuestResource, h)
				_, err := i.ResourceRep(testGuestResource, h)
				return err
			},
			want: "already dropped",
		},
		{
			name: "new_while_may_not_leave",
			run: func(i *Instance) error {
				i.mayLeave = false
				_, err := i.ResourceNew(testGuestResource, 1)
				return err
			},
			want: "resource.new of \"guest-thing\" called from cabi_realloc or post-return",
		},
		{
			name: "dtor_fails",
			run: func(i *Instance) error {
				i.SetDestructor(testGuestResource, func(context.Context, uint32) error { return errors.New("wasm error: unreachable") })
				h, _ := i.ResourceNew(testGuestResource, 9)
				return i.ResourceDrop(ctx, testGuestResource, h)
			},
			want: "destructor of \"guest-thing\" (rep 9) failed: wasm error: unreachable",
		},
		{
			name: "move_lent_own",
			run: func(i *Instance) error {
				h, _ := i.ResourceNew(testGuestResource, 1)
				i.table.entries[h].numLends = 1
				l := &lifter{inst: i, budget: DefaultMaxLiftBytes, limit: DefaultMaxLiftBytes}
				_, err := l.liftFlat(&flatReader{vals: []uint64{uint64(h)}}, types.OwnOf(testGuestResource))
				return err
			},
			want: "is lent to a call that has not returned and cannot be moved",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantTrap(t, tc.run(NewInstance()), tc.want)
		})
	}
}

func TestHandleIndexReuse(t *testing.T) {
	i := NewInstance()
	a, _ := i.ResourceNew(testGuestResource, 1)
	b, _ := i.ResourceNew(testGuestResource, 2)
	if a != 1 || b != 2 {
		t.Fatalf("first handles are %d, %d; want 1, 2 (0 is reserved)", a, b)
	}
	if err := i.ResourceDrop(context.Background(), testGuestResource, a); err != nil {
		t.Fatal(err)
	}
	c, _ := i.ResourceNew(testGuestResource, 3)
	if c != a {
		t.Fatalf("new handle after dropping %d is %d; the free list should reuse it", a, c)
	}
	if rep, _ := i.ResourceRep(testGuestResource, c); rep != 3 {
		t.Fatalf("reused handle has rep %d, want 3", rep)
	}
}

// TestHostResources passes host objects into the guest as owns and borrows.
func TestHostResources(t *testing.T) {
	own, borrow := types.OwnOf(testHostResource), types.BorrowOf(testHostResource)
	t.Run("own_dropped_by_guest_closes", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{}
		if _, err := g.call("drop_host", fn1(own, nil), types.Handle{Resource: testHostResource, Host: obj}); err != nil {
			t.Fatal(err)
		}
		if obj.closed != 1 {
			t.Fatalf("Close called %d times, want 1", obj.closed)
		}
	})
	t.Run("own_kept_by_guest_closed_with_instance", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{}
		if _, err := g.call("ignore_i32", fn1(own, nil), types.Handle{Resource: testHostResource, Host: obj}); err != nil {
			t.Fatal(err)
		}
		if obj.closed != 0 || g.inst.liveHandles() != 1 {
			t.Fatalf("after the call: closed %d times, %d handles; want 0 and 1", obj.closed, g.inst.liveHandles())
		}
		if err := g.inst.Close(g.ctx); err != nil {
			t.Fatal(err)
		}
		if obj.closed != 1 || g.inst.liveHandles() != 0 {
			t.Fatalf("after Close: closed %d times, %d handles; want 1 and 0", obj.closed, g.inst.liveHandles())
		}
	})
	t.Run("own_moved_back_to_host", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{id: 7}
		got, err := g.call("identity_i32", fn1(own, own), types.Handle{Resource: testHostResource, Host: obj})
		if err != nil {
			t.Fatal(err)
		}
		if h := got[0].(types.Handle); h.Host != obj {
			t.Fatalf("got %#v back, want the same host object", h)
		}
		if obj.closed != 0 || g.inst.liveHandles() != 0 {
			t.Fatalf("closed %d times, %d handles left; want 0 and 0", obj.closed, g.inst.liveHandles())
		}
	})
	t.Run("borrow_dropped_by_guest", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{}
		if _, err := g.call("drop_host", fn1(borrow, nil), types.Handle{Resource: testHostResource, Host: obj}); err != nil {
			t.Fatal(err)
		}
		if obj.closed != 0 || g.inst.liveHandles() != 0 {
			t.Fatalf("dropping a borrow: closed %d times, %d handles left; want 0 and 0", obj.closed, g.inst.liveHandles())
		}
	})
	t.Run("borrow_kept_by_guest_traps", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{}
		_, err := g.call("ignore_i32", fn1(borrow, nil), types.Handle{Resource: testHostResource, Host: obj})
		wantTrap(t, err, "still holding 1 borrowed handle(s)")
		if g.inst.liveHandles() != 0 {
			t.Fatalf("%d handles left after the trapped call; the borrow should be gone", g.inst.liveHandles())
		}
		if _, err := g.call("drop_host", fn1(borrow, nil), types.Handle{Resource: testHostResource, Host: obj}); err != nil {
			t.Fatalf("the next call: %v", err)
		}
	})
	t.Run("own_lent_to_import_cannot_be_dropped", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{}
		var dropErr error
		var lent types.Handle
		g.importTypes["lend"] = fn1(borrow, nil)
		g.impls["lend"] = func(ctx context.Context, args []any) ([]any, error) {
			lent = args[0].(types.Handle)
			// As if the guest dropped the handle it lent while the call runs.
			dropErr = g.inst.ResourceDrop(ctx, testHostResource, uint32(g.lastImportStack[0]))
			return nil, nil
		}
		if _, err := g.call("lend_then_drop", fn1(own, nil), types.Handle{Resource: testHostResource, Host: obj}); err != nil {
			t.Fatal(err)
		}
		if lent.Host != obj {
			t.Fatalf("the import got %#v, want a borrow of the host object", lent)
		}
		wantTrap(t, dropErr, "is lent to a call that has not returned")
		if obj.closed != 1 {
			t.Fatalf("Close called %d times after the lend ended and the guest dropped it, want 1", obj.closed)
		}
	})
	t.Run("guest_borrow_passed_to_import", func(t *testing.T) {
		g := newGuest(t)
		obj := &hostObject{}
		var lent types.Handle
		g.importTypes["lend"] = fn1(borrow, nil)
		g.impls["lend"] = func(_ context.Context, args []any) ([]any, error) {
			lent = args[0].(types.Handle)
			return nil, nil
		}
		// lend_then_drop passes the borrow it got on to the import, then drops it.
		if _, err := g.call("lend_then_drop", fn1(borrow, nil), types.Handle{Resource: testHostResource, Host: obj}); err != nil {
			t.Fatal(err)
		}
		if lent.Host != obj || obj.closed != 0 || g.inst.liveHandles() != 0 {
			t.Fatalf("lent %#v, closed %d, %d handles; want the object, 0, 0", lent, obj.closed, g.inst.liveHandles())
		}
	})
}
