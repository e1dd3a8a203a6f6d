package component

import (
	"context"
	"sync"
	"time"
)

// MaxPoolReady is how many instances a Pool keeps ready at most: the size
// it grows to when calls keep finding it empty.
const MaxPoolReady = 4

// poolIdleStep is how long a Pool must go without a miss before it keeps one
// instance fewer ready, down to its size.
const poolIdleStep = 10 * time.Second

// Pool hands out fresh instances of one component, instantiated ahead of
// time in the background, so a call does not wait for instantiation (2–10 ms
// for a JavaScript component). An instance is never reused: each Get returns
// one nobody has called, and the caller closes or retires it.
//
// The pool adapts to bursts: a Get that finds it empty (a miss) raises the
// number kept ready by one, up to MaxPoolReady, and each poolIdleStep
// without a miss lowers it by one, back to the size it was made with,
// closing the instances it no longer needs.
//
// A pooled instance was created before the call that uses it, so its core
// start functions ran without that call's context; host interfaces must not
// rely on call-scoped values during instantiation.
type Pool struct {
	c    *Component
	opts InstantiateOptions
	size int // instances kept ready when idle
	// instantiate makes the filler's instances; tests replace it to
	// control when they arrive.
	instantiate func(ctx context.Context) (*Instance, error)
	// filled, if not nil, is told each time the filler adds an instance;
	// manualShrink stops the filler from shrinking the pool by the clock
	// (tests, which call shrink themselves).
	filled       chan struct{}
	manualShrink bool

	mu       sync.Mutex
	ready    []*Instance
	target   int       // instances to keep ready: size ≤ target ≤ max(size, MaxPoolReady)
	lastMiss time.Time // when a Get last found the pool empty
	closed   bool

	wake   chan struct{} // a Get took an instance or missed
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewPool starts a pool keeping size instances ready (size < 1 means 1),
// more while calls outrun it. Instances are made with ctx, which may carry
// values host interfaces read while an instance starts (which component it
// is); cancelling ctx stops the pool as Close does. Close it when the
// component is unloaded.
func (c *Component) NewPool(ctx context.Context, opts InstantiateOptions, size int) *Pool {
	p := c.newPool(ctx, opts, size)
	p.start()
	return p
}

// newPool makes a pool without starting its filler.
func (c *Component) newPool(ctx context.Context, opts InstantiateOptions, size int) *Pool {
	if size < 1 {
		size = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Pool{c: c, opts: opts, size: size, target: size,
		instantiate: func(ctx context.Context) (*Instance, error) { return c.Instantiate(ctx, opts) },
		wake:        make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

func (p *Pool) start() {
	p.wg.Add(1)
	go p.fill()
}

// fill keeps target instances ready, one instantiation at a time, and
// lowers the target while the pool is idle. An instantiation error is not
// fatal here: Get instantiates on the spot and reports it to the caller.
func (p *Pool) fill() {
	defer p.wg.Done()
	var idle *time.Timer // runs while the target is above the pool's size
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()
	for {
		p.mu.Lock()
		need := !p.closed && len(p.ready) < p.target
		grown := p.target > p.size && !p.manualShrink
		p.mu.Unlock()
		if need {
			inst, err := p.instantiate(p.ctx)
			if err == nil {
				if !p.put(inst) {
					return
				}
				continue
			}
			// Try again after the next Get.
		}
		var idleC <-chan time.Time
		if grown {
			if idle == nil {
				idle = time.NewTimer(poolIdleStep)
			}
			idleC = idle.C
		}
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case now := <-idleC:
			p.shrink(now)
			idle.Reset(poolIdleStep)
		}
	}
}

// put adds an instance the filler made; false (and the instance closed)
// when the pool closed meanwhile.
func (p *Pool) put(inst *Instance) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		inst.Close(context.Background())
		return false
	}
	p.ready = append(p.ready, inst)
	p.mu.Unlock()
	if p.filled != nil {
		p.filled <- struct{}{}
	}
	return true
}

// shrink lowers the target by one if no Get missed for poolIdleStep before
// now, and closes the ready instances past it.
func (p *Pool) shrink(now time.Time) {
	p.mu.Lock()
	if p.target > p.size && now.Sub(p.lastMiss) >= poolIdleStep {
		p.target--
	}
	var surplus []*Instance
	if n := len(p.ready) - p.target; n > 0 {
		// The newest go: the oldest have waited longest for a call.
		surplus = append(surplus, p.ready[len(p.ready)-n:]...)
		clear(p.ready[len(p.ready)-n:])
		p.ready = p.ready[:len(p.ready)-n]
	}
	p.mu.Unlock()
	for _, inst := range surplus {
		inst.Close(context.Background())
	}
}

// Get returns a fresh instance: a ready one, or one made now with ctx.
func (p *Pool) Get(ctx context.Context) (*Instance, error) {
	p.mu.Lock()
	var inst *Instance
	if n := len(p.ready); n > 0 {
		inst = p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
	} else if !p.closed {
		// Calls outrun the pool: keep more ready from now on.
		p.target = min(p.target+1, max(p.size, MaxPoolReady))
		p.lastMiss = time.Now()
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	if inst != nil {
		return inst, nil
	}
	return p.c.Instantiate(ctx, p.opts)
}

// Retire closes an instance the pool handed out, once its call is over. It
// closes it in the background, so that the caller's reply does not wait for
// the teardown (its memory unmapped, its modules closed); Close waits for
// instances being retired.
func (p *Pool) Retire(inst *Instance) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		inst.Close(context.Background())
		return
	}
	p.wg.Add(1) // before Close can Wait: Close sets closed under p.mu first
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		inst.Close(context.Background())
	}()
}

// Ready returns how many instances are waiting to be handed out.
func (p *Pool) Ready() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready)
}

// Close stops the pool, closes the instances it holds and waits for those
// being retired. Instances it handed out and not retired are the callers'
// to close.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	ready := p.ready
	p.ready = nil
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	for _, inst := range ready {
		inst.Close(context.Background())
	}
}
