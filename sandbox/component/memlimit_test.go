package component

import (
	"bytes"
	"testing"
)

func TestMappedMemory(t *testing.T) {
	const page = 64 << 10
	store := newMapped(4 * page)
	if store == nil {
		t.Skip("this platform backs memories with the heap only (newMapped returns nil)")
	}
	defer store.unmap()
	buf := store.grow(page)
	if len(buf) != page || cap(buf) != page {
		t.Fatalf("grow(64 KiB) = len %d cap %d, want both 64 KiB (nothing may reach uncommitted pages)", len(buf), cap(buf))
	}
	if !bytes.Equal(buf, make([]byte, page)) {
		t.Fatal("a fresh memory is not zeroed")
	}
	buf[0], buf[page-1] = 1, 2
	grown := store.grow(3 * page)
	if len(grown) != 3*page || &grown[0] != &buf[0] {
		t.Fatal("growing a mapped memory moved it or gave the wrong size")
	}
	if grown[0] != 1 || grown[page-1] != 2 || !bytes.Equal(grown[page:], make([]byte, 2*page)) {
		t.Fatal("growing lost the contents or gave non-zero new pages")
	}
	grown[3*page-1] = 3 // the new pages are writable
	if store.grow(5*page) != nil {
		t.Fatal("grew past the reservation")
	}
}

func TestMemoryBudget(t *testing.T) {
	const page = 64 << 10
	b := &memoryBudget{limit: 4 * page}
	// A memory whose data segments cover little of it may be mapped; one
	// they mostly cover lives on the heap.
	sparse := b.allocator(100).Allocate(2*page, 1<<32).(*cappedMemory)
	dense := b.allocator(page).Allocate(2*page, 1<<32).(*cappedMemory)
	if _, ok := dense.store.(*heapMemory); !ok {
		t.Errorf("a memory mostly covered by data is backed by %T, want the heap", dense.store)
	}
	if _, ok := sparse.store.(*heapMemory); ok && newMapped(page) != nil {
		t.Error("a sparse memory is on the heap although this platform maps memories")
	}
	if buf := sparse.Reallocate(2 * page); len(buf) != 2*page {
		t.Fatalf("first allocation gave %d bytes", len(buf))
	}
	if buf := dense.Reallocate(2 * page); len(buf) != 2*page {
		t.Fatalf("first allocation gave %d bytes", len(buf))
	}
	// Both memories together use the whole budget: neither may grow.
	if sparse.Reallocate(3*page) != nil || dense.Reallocate(3*page) != nil {
		t.Fatal("a memory grew past the instance's budget")
	}
	if b.err() == nil {
		t.Fatal("a refused grow did not record the limit")
	}
	dense.Free()
	if buf := sparse.Reallocate(4 * page); len(buf) != 4*page {
		t.Fatal("a memory could not use the budget another memory freed")
	}
	b.release()
	if len(b.mems) != 0 || !b.released {
		t.Fatal("release kept backing stores")
	}
	// A memory made after release (a module starting in a closed
	// instance) stays on the heap, which nothing needs to unmap.
	late := b.allocator(0).Allocate(page, page).(*cappedMemory)
	if _, ok := late.store.(*heapMemory); !ok {
		t.Errorf("a memory allocated after release is backed by %T, want the heap", late.store)
	}
}
