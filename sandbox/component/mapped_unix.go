//go:build linux || darwin

package component

import (
	"golang.org/x/sys/unix"
)

// mappedMemory is a linear memory in a private anonymous mapping: address
// space for the memory's largest size is reserved inaccessible up front, and
// made readable and writable as the memory grows, so the memory never moves
// and its pages cost nothing until the guest touches them (the kernel gives
// zeroed pages). Nothing can reach the reserved part: wazero checks every
// access against the memory's current length.
type mappedMemory struct {
	region    []byte // the whole reservation
	committed uint64 // bytes of region that are readable and writable
}

// newMapped reserves address space for a memory of up to limit bytes, or
// returns nil when the system refuses (an address-space limit): the caller
// then uses the heap.
func newMapped(limit uint64) linearMemory {
	page := uint64(unix.Getpagesize())
	limit = (limit + page - 1) &^ (page - 1)
	if limit == 0 || limit != uint64(int(limit)) {
		return nil
	}
	region, err := unix.Mmap(-1, 0, int(limit), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	return &mappedMemory{region: region}
}

func (m *mappedMemory) grow(size uint64) []byte {
	if size > uint64(len(m.region)) {
		return nil
	}
	if size > m.committed {
		page := uint64(unix.Getpagesize())
		end := min((size+page-1)&^(page-1), uint64(len(m.region)))
		if err := unix.Mprotect(m.region[m.committed:end], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		m.committed = end
	}
	// The capacity stops at the length so that nothing can reslice into
	// pages not yet committed.
	return m.region[:size:size]
}

func (m *mappedMemory) unmap() {
	if m.region != nil {
		unix.Munmap(m.region)
		m.region, m.committed = nil, 0
	}
}
