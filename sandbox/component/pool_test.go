package component_test

import (
	"context"
	"sync"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component"
)

// gatedPool is a pool of real js-nowasi instances whose filler makes an
// instance only when the test lets it, so the tests below see misses,
// growth and shrinking without depending on how fast anything runs.
type gatedPool struct {
	*component.Pool
	gate   chan struct{} // one send lets the filler make one instance
	filled chan struct{} // told of each instance the filler adds

	mu   sync.Mutex
	made []*component.Instance // by the filler, in order
}

func newGatedPool(t *testing.T, size int) *gatedPool {
	t.Helper()
	c := runtimeFor(t).compile(t, "js-nowasi")
	g := &gatedPool{gate: make(chan struct{}), filled: make(chan struct{})}
	g.Pool = c.NewGatedPool(size, func(ctx context.Context) (*component.Instance, error) {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
		if err == nil {
			g.mu.Lock()
			g.made = append(g.made, inst)
			g.mu.Unlock()
		}
		return inst, err
	}, g.filled)
	return g
}

// let lets the filler make n instances and waits until they are ready.
func (g *gatedPool) let(n int) {
	for range n {
		g.gate <- struct{}{}
		<-g.filled
	}
}

func (g *gatedPool) instances() []*component.Instance {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*component.Instance(nil), g.made...)
}

// missAndClose takes n instances from a pool whose filler is held, so each
// Get misses and instantiates on the spot.
func missAndClose(t *testing.T, p *component.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	for range n {
		inst, err := p.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inst.Close(ctx)
	}
}

func TestPoolGrowsAfterMissesUpToItsBound(t *testing.T) {
	g := newGatedPool(t, 1)
	defer g.Close()
	for i := range component.MaxPoolReady + 2 {
		missAndClose(t, g.Pool, 1)
		if want := min(2+i, component.MaxPoolReady); g.Target() != want {
			t.Fatalf("after %d misses the pool keeps %d ready, want %d", i+1, g.Target(), want)
		}
	}
	g.let(component.MaxPoolReady)
	if g.Ready() != component.MaxPoolReady {
		t.Fatalf("Ready() = %d after the filler made %d", g.Ready(), component.MaxPoolReady)
	}
	// Ready instances are handed out oldest first, each once, and hits do
	// not change the target.
	ctx := context.Background()
	made := g.instances()
	for i := range component.MaxPoolReady {
		inst, err := g.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if inst != made[i] {
			t.Fatalf("Get %d did not return the pool's oldest ready instance", i)
		}
		inst.Close(ctx)
	}
	if g.Target() != component.MaxPoolReady {
		t.Fatalf("hits changed the target to %d", g.Target())
	}
}

func TestPoolShrinksWhenIdle(t *testing.T) {
	g := newGatedPool(t, 1)
	defer g.Close()
	missAndClose(t, g.Pool, 3)
	g.let(4)
	if g.Target() != 4 || g.Ready() != 4 {
		t.Fatalf("target %d, ready %d after three misses, want 4 and 4", g.Target(), g.Ready())
	}
	lastMiss := g.LastMiss()
	// Not idle long enough: nothing changes.
	g.Shrink(lastMiss.Add(component.PoolIdleStep / 2))
	if g.Target() != 4 || g.Ready() != 4 {
		t.Fatalf("target %d, ready %d after a short pause, want 4 and 4", g.Target(), g.Ready())
	}
	// Each idle step drops one instance, newest first, down to the size.
	for want := 3; want >= 0; want-- {
		g.Shrink(lastMiss.Add(component.PoolIdleStep))
		if got := max(want, 1); g.Target() != got || g.Ready() != got {
			t.Fatalf("target %d, ready %d after an idle step, want %d and %d", g.Target(), g.Ready(), got, got)
		}
	}
	for i, inst := range g.instances() {
		if closed := component.IsClosed(inst); closed != (i > 0) {
			t.Errorf("instance %d closed = %v after shrinking to one, want %v", i, closed, i > 0)
		}
	}
}

func TestPoolCloseFreesAll(t *testing.T) {
	g := newGatedPool(t, 2)
	g.let(2)
	ctx := context.Background()
	handed, err := g.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	retired, err := g.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.Retire(retired)
	// The filler is now waiting at the gate to replace them; Close must
	// stop it there (a hang is a failure) and close every instance it
	// holds, and those being retired.
	g.Close()
	if !component.IsClosed(retired) {
		t.Error("Close returned before a retired instance was closed")
	}
	if component.IsClosed(handed) {
		t.Error("Close closed an instance it had handed out")
	}
	g.Retire(handed) // after Close: closed at once
	if !component.IsClosed(handed) {
		t.Error("Retire after Close did not close the instance")
	}
	if g.Ready() != 0 {
		t.Errorf("Ready() = %d after Close", g.Ready())
	}
	// A Get after Close still works, without the filler.
	inst, err := g.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst.Close(ctx)
}
