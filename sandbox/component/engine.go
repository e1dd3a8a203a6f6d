package component

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// DefaultInterpreterAfter is how long Compile waits for native code before it
// serves a component from wazero's interpreter while the compiler finishes
// in the background. Code already in the on-disk cache loads well within it
// (0.16–0.26 s for a 12 MB JavaScript engine); compiling that engine afresh
// takes 5–7 s, which a person waiting for a first answer should not.
const DefaultInterpreterAfter = 300 * time.Millisecond

// engine is a component's compiled code on one wazero runtime: its core
// modules and the host module of its canon lowers. A Component starts on
// the interpreter's engine when native code is slow to come, and moves to
// the compiler's when it is ready; instances keep the engine they started
// on, which is released when the last of them closes.
type engine struct {
	wz          wazero.Runtime
	compiled    []wazero.CompiledModule // per plan.modules
	hostMod     api.Module
	interpreted bool
	refs        atomic.Int64 // instances using it, plus one while it is the Component's
}

// acquire takes a reference to the component's current engine.
func (c *Component) acquire() (*engine, error) {
	for {
		e := c.eng.Load()
		if e == nil {
			return nil, errors.New("component: instantiate after Close")
		}
		if e.refs.Add(1) > 1 {
			return e, nil
		}
		// It was released between Load and Add: undo and look again.
		e.refs.Add(-1)
	}
}

// release drops a reference; the last one closes the engine.
func (e *engine) release() {
	if e.refs.Add(-1) == 0 {
		ctx := context.Background()
		if e.hostMod != nil {
			e.hostMod.Close(ctx)
		}
		for _, cm := range e.compiled {
			if cm != nil {
				cm.Close(ctx)
			}
		}
	}
}

// buildEngine compiles the plan's modules and registers the host module on wz.
func (c *Component) buildEngine(ctx context.Context, wz wazero.Runtime, interpreted bool) (*engine, error) {
	e := &engine{wz: wz, compiled: make([]wazero.CompiledModule, len(c.plan.modules)), interpreted: interpreted}
	e.refs.Store(1)
	for i, m := range c.plan.modules {
		cm, err := wz.CompileModule(ctx, m.bytes)
		if err != nil {
			e.release()
			if m.def != nil {
				return nil, fmt.Errorf("component: core module at byte offset %#x: %w", m.def.Offset, err)
			}
			return nil, fmt.Errorf("component: linking: generated module %d: %w", i, err)
		}
		e.compiled[i] = cm
	}
	if err := c.instantiateHostModule(ctx, e); err != nil {
		e.release()
		return nil, err
	}
	return e, nil
}

// compileEngines gives c an engine: the compiler's if it is ready within
// the runtime's InterpreterAfter, else the interpreter's at once and the
// compiler's later.
func (c *Component) compileEngines(ctx context.Context) error {
	r := c.rt
	type result struct {
		e   *engine
		err error
	}
	done := make(chan result, 1)
	// The compiler goes on after Compile returns: detach it from ctx's
	// cancellation but not from its values.
	bg := context.WithoutCancel(ctx)
	r.background.Add(1)
	go func() {
		defer r.background.Done()
		e, err := c.buildEngine(bg, r.wz, r.interpreterOnly)
		done <- result{e, err}
	}()
	wait := r.interpAfter
	if r.interp == nil {
		wait = -1
	}
	var timer <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	select {
	case res := <-done:
		if res.err != nil {
			return res.err
		}
		c.eng.Store(res.e)
		return nil
	case <-timer:
	case <-ctx.Done():
		go func() {
			if res := <-done; res.e != nil {
				res.e.release()
			}
		}()
		return ctx.Err()
	}
	ie, ierr := c.buildEngine(ctx, r.interp, true)
	if ierr != nil {
		// The interpreter could not take it: wait for the compiler.
		res := <-done
		if res.err != nil {
			return res.err
		}
		c.eng.Store(res.e)
		return nil
	}
	c.eng.Store(ie)
	c.upgrading.Add(1)
	go func() {
		defer c.upgrading.Done()
		res := <-done
		if res.err != nil || c.closed.Load() {
			if res.e != nil {
				res.e.release()
			}
			return
		}
		if old := c.eng.Swap(res.e); old != nil {
			old.release()
		} else {
			// Closed meanwhile: drop the new engine too.
			c.eng.Store(nil)
			res.e.release()
		}
	}()
	return nil
}

// Interpreted reports whether new instances run in the interpreter (native
// code is still being compiled in the background).
func (c *Component) Interpreted() bool {
	e := c.eng.Load()
	return e != nil && e.interpreted
}

// WaitCompiled waits until the component runs native code (or ctx is done).
func (c *Component) WaitCompiled(ctx context.Context) error {
	ch := make(chan struct{})
	go func() { c.upgrading.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
