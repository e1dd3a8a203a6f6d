package component

import (
	"fmt"
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
type memoryBudget struct {
	limit    uint64
	used     atomic.Uint64
	exceeded atomic.Bool
}

func (b *memoryBudget) Allocate(cap, max uint64) experimental.LinearMemory {
	return &cappedMemory{budget: b}
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

type cappedMemory struct {
	budget *memoryBudget
	buf    []byte
}

// Reallocate grows the memory to size bytes, or returns nil (memory.grow
// fails with -1) when the instance's budget would be exceeded. The first
// allocation (the module's declared minimum) is always made, because wazero
// requires it; the instance then fails to start if it was over budget.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	old := uint64(len(m.buf))
	if size > old {
		grow := size - old
		if used := m.budget.used.Add(grow); used > m.budget.limit {
			m.budget.exceeded.Store(true)
			if m.buf != nil {
				m.budget.used.Add(-grow)
				return nil
			}
		}
	}
	if uint64(cap(m.buf)) >= size {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically to make repeated memory.grow calls cheap, but never
	// reserve past the budget.
	c := max(size, min(2*uint64(cap(m.buf)), m.budget.limit))
	nb := make([]byte, size, c)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *cappedMemory) Free() {
	m.budget.used.Add(-uint64(len(m.buf)))
	m.buf = nil
}

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
