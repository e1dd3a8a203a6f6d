package component

import (
	"context"
	"sync"
)

// Pool hands out fresh instances of one component, instantiated ahead of
// time in the background, so a call does not wait for instantiation (2–10 ms
// for a JavaScript component). An instance is never reused: each Get returns
// one nobody has called, and the caller closes it.
//
// A pooled instance was created before the call that uses it, so its core
// start functions ran without that call's context; host interfaces must not
// rely on call-scoped values during instantiation.
type Pool struct {
	c     *Component
	opts  InstantiateOptions
	ready chan *Instance
	kick  chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewPool starts a pool keeping size instances ready (size < 1 means 1).
// Instances are made with ctx, which may carry values host interfaces read
// while an instance starts (which component it is); cancelling ctx stops
// the pool as Close does. Close it when the component is unloaded.
func (c *Component) NewPool(ctx context.Context, opts InstantiateOptions, size int) *Pool {
	if size < 1 {
		size = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Pool{c: c, opts: opts, ready: make(chan *Instance, size), kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
	p.wg.Add(1)
	go p.fill()
	return p
}

// fill keeps the ready channel full. An instantiation error is not fatal
// here: Get instantiates on the spot and reports it to the caller.
func (p *Pool) fill() {
	defer p.wg.Done()
	for {
		inst, err := p.c.Instantiate(p.ctx, p.opts)
		if err != nil {
			select {
			case <-p.ctx.Done():
				return
			case <-p.kick: // try again after the next Get
				continue
			}
		}
		select {
		case p.ready <- inst:
		case <-p.ctx.Done():
			inst.Close(context.Background())
			return
		}
	}
}

// Get returns a fresh instance: a ready one, or one made now.
func (p *Pool) Get(ctx context.Context) (*Instance, error) {
	select {
	case inst := <-p.ready:
		return inst, nil
	default:
	}
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return p.c.Instantiate(ctx, p.opts)
}

// Ready returns how many instances are waiting to be handed out.
func (p *Pool) Ready() int { return len(p.ready) }

// Close stops the pool and closes the instances it holds.
func (p *Pool) Close() {
	p.cancel()
	p.wg.Wait()
	for {
		select {
		case inst := <-p.ready:
			inst.Close(context.Background())
		default:
			return
		}
	}
}
