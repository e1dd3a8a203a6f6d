package component

import (
	"context"
	"time"
)

// PoolIdleStep is how long a pool waits without a miss before it shrinks.
const PoolIdleStep = poolIdleStep

// MemoriesReleased reports whether inst gave back its memories' backing
// store.
func MemoriesReleased(inst *Instance) bool {
	b := inst.link.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.released
}

// IsClosed reports whether Close was called on inst.
func IsClosed(inst *Instance) bool {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.closing
}

// NewGatedPool is NewPool with the filler's instantiations made by
// instantiate, filled told of each instance the filler adds, and shrinking
// left to Shrink.
func (c *Component) NewGatedPool(size int, instantiate func(context.Context) (*Instance, error), filled chan struct{}) *Pool {
	p := c.newPool(context.Background(), InstantiateOptions{}, size)
	p.instantiate, p.filled, p.manualShrink = instantiate, filled, true
	p.start()
	return p
}

// Target returns how many instances the pool means to keep ready.
func (p *Pool) Target() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// LastMiss returns when a Get last found the pool empty.
func (p *Pool) LastMiss() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastMiss
}

// Shrink runs the pool's idle check as if the time were now.
func (p *Pool) Shrink(now time.Time) { p.shrink(now) }
