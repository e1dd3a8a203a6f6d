package component

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// DefaultMemoryLimit is the linear memory an instance may use when
// InstantiateOptions.MemoryLimit is zero: every memory of the instance
// together, in bytes.
const DefaultMemoryLimit = 512 << 20

// memoryBudget is a wazero MemoryAllocator that caps the total linear memory
// of one component instance (all its core memories together). wazero's own
// limit is per runtime; this one is per instance, so each component gets the
// limit its policy names.
//
// It also owns the memories' backing store. Where the platform allows, a
// memory is a reservation of address space that the kernel fills with zero
// pages as the guest touches them (mapped.go), instead of a Go slice that
// must be zeroed, copied when the memory grows and later garbage collected:
// a Rust tool starts with 1.1 MB of memory it barely touches, a JavaScript
// one with 9.5 MB. wazero frees a memory when its module closes, which can
// happen under a guest still running (a deadline, the runtime closing), so
// Free only marks it; release unmaps everything once the Instance is closed
// and out of any call.
type memoryBudget struct {
	limit    uint64
	used     atomic.Uint64
	exceeded atomic.Bool

	mu       sync.Mutex
	mems     []linearMemory
	released bool
}

// linearMemory is one memory's backing store.
type linearMemory interface {
	// grow resizes the memory to size bytes (never smaller) and returns it,
	// or nil when the store cannot hold size bytes.
	grow(size uint64) []byte
	// unmap gives the backing store back; the memory must not be used after.
	unmap()
}

// allocator returns the MemoryAllocator for the memories of one core
// module, whose data segments (dataSize bytes) are written into its memory
// as it starts. Pages the guest writes at once are cheaper on the heap (one
// bulk clear) than mapped (a page fault each, about five times the cost of
// clearing the page), and a guest touches more than its data as it starts
// (stack, heap); so a memory whose data would cover an eighth of its initial
// size or more stays on the heap. A componentize-js engine's data is 2.7 MB
// of 9.5 MB; a Rust tool's 32 KB of 1.1 MB, a C tool's 3 KB of 128 KB.
func (b *memoryBudget) allocator(dataSize uint32) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capBytes, maxBytes uint64) experimental.LinearMemory {
		return b.allocate(capBytes, maxBytes, 8*uint64(dataSize) < capBytes)
	})
}

// allocate makes one memory of capBytes (its minimum, as Tapedeck
// configures wazero), mapped if lazy is set and the platform allows.
func (b *memoryBudget) allocate(capBytes, maxBytes uint64, lazy bool) experimental.LinearMemory {
	m := &cappedMemory{budget: b, store: &heapMemory{limit: b.limit}}
	if !lazy {
		return m
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		// A module starting in an instance already closed: nothing
		// would unmap its memory, so it stays on the heap.
		return m
	}
	// A memory never needs more than the instance's budget, nor than its
	// declared maximum; its minimum is allocated even past the budget so
	// that the instance can start and report the limit.
	if store := newMapped(max(capBytes, min(maxBytes, b.limit))); store != nil {
		m.store = store
		b.mems = append(b.mems, store)
	}
	return m
}

// release gives back every memory's backing store. The instance's modules
// must be closed and no call may be running on it.
func (b *memoryBudget) release() {
	b.mu.Lock()
	mems := b.mems
	b.mems, b.released = nil, true
	b.mu.Unlock()
	for _, m := range mems {
		m.unmap()
	}
}

// LimitError reports that a component instance reached its memory limit.
type LimitError struct {
	Limit   string // the limit's name, such as "memory"
	Value   string // its setting, such as "512 MiB"
	Setting string // how a person raises it
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the component reached its %s limit (%s); %s", e.Limit, e.Value, e.Setting)
}

func (b *memoryBudget) err() error {
	if !b.exceeded.Load() {
		return nil
	}
	return &LimitError{
		Limit:   "memory",
		Value:   formatBytes(b.limit),
		Setting: "raise it with `tapedeck permission grant memory ID SIZE` or resources.limits.memory in the component's policy",
	}
}

// cappedMemory is one linear memory, counted against its instance's budget.
type cappedMemory struct {
	budget  *memoryBudget
	store   linearMemory
	size    uint64
	started bool // the first allocation was made
}

// Reallocate grows the memory to size bytes, or returns nil (memory.grow
// fails with -1) when the instance's budget would be exceeded. The first
// allocation (the module's declared minimum) is always made, because wazero
// requires it; the instance then fails to start if it was over budget.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	first := !m.started
	var grow uint64
	if size > m.size {
		grow = size - m.size
		if used := m.budget.used.Add(grow); used > m.budget.limit {
			m.budget.exceeded.Store(true)
			if !first {
				m.budget.used.Add(-grow)
				return nil
			}
		}
	}
	buf := m.store.grow(size)
	if buf == nil && first {
		// The reservation could not be committed; the heap can still give
		// the minimum wazero needs to start the module.
		m.store = &heapMemory{limit: m.budget.limit}
		buf = m.store.grow(size)
	}
	if buf == nil {
		m.budget.used.Add(-grow)
		return nil
	}
	m.size, m.started = size, true
	return buf
}

// Free returns the memory's share of the budget. The backing store stays
// until the instance releases it: the guest may still be running.
func (m *cappedMemory) Free() {
	m.budget.used.Add(-m.size)
	m.size = 0
}

// heapMemory is a memory on the Go heap, where address-space reservations
// are not available.
type heapMemory struct {
	limit uint64
	buf   []byte
}

func (h *heapMemory) grow(size uint64) []byte {
	if h.buf != nil && uint64(cap(h.buf)) >= size {
		h.buf = h.buf[:size]
		return h.buf
	}
	// Grow geometrically to make repeated memory.grow calls cheap, but never
	// reserve past the budget.
	c := max(size, min(2*uint64(cap(h.buf)), h.limit))
	nb := make([]byte, size, c)
	copy(nb, h.buf)
	h.buf = nb
	return h.buf
}

func (h *heapMemory) unmap() { h.buf = nil }

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
