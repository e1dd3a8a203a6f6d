package component

import (
	"context"
	"os"
	"sync"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

// gatedPool is a pool of real js-nowasi instances whose filler makes an
// instance only when the test lets it, so the tests below see misses,
// growth and shrinking without depending on how fast anything runs.
type gatedPool struct {
	*Pool
	gate chan struct{} // one send lets the filler make one instance

	mu   sync.Mutex
	made []*Instance // by the filler
}

func newGatedPool(t *testing.T, size int) *gatedPool {
	t.Helper()
	ctx := context.Background()
	rt, err := NewRuntime(ctx, Config{CacheDir: testcomponents.CacheDir(t), NoInterpreterFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	wasm, err := os.ReadFile(testcomponents.Path(t, "js-nowasi"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedPool{Pool: c.newPool(ctx, InstantiateOptions{}, size), gate: make(chan struct{})}
	g.filled = make(chan struct{})
	g.instantiate = func(ctx context.Context) (*Instance, error) {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		inst, err := c.Instantiate(ctx, InstantiateOptions{})
		if err == nil {
			g.mu.Lock()
			g.made = append(g.made, inst)
			g.mu.Unlock()
		}
		return inst, err
	}
	g.start()
	return g
}

// let lets the filler make n instances and waits until they are ready.
func (g *gatedPool) let(t *testing.T, n int) {
	t.Helper()
	for range n {
		g.gate <- struct{}{}
		<-g.filled
	}
}

func (g *gatedPool) target() int {
	g.Pool.mu.Lock()
	defer g.Pool.mu.Unlock()
	return g.Pool.target
}

func isClosed(inst *Instance) bool {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.closing
}

func TestPoolGrowsAfterMissesUpToItsBound(t *testing.T) {
	g := newGatedPool(t, 1)
	defer g.Close()
	ctx := context.Background()
	// The filler is held, so every Get misses and instantiates on the spot.
	for i := range MaxPoolReady + 2 {
		inst, err := g.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inst.Close(ctx)
		if want := min(2+i, MaxPoolReady); g.target() != want {
			t.Fatalf("after %d misses the pool keeps %d ready, want %d", i+1, g.target(), want)
		}
	}
	g.let(t, MaxPoolReady)
	if g.Ready() != MaxPoolReady {
		t.Fatalf("Ready() = %d after the filler made %d, want %d", g.Ready(), MaxPoolReady, MaxPoolReady)
	}
	// Ready instances are handed out oldest first, each once.
	seen := map[*Instance]bool{}
	for i := range MaxPoolReady {
		inst, err := g.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if inst != g.made[i] || seen[inst] {
			t.Fatalf("Get %d did not return the pool's next ready instance", i)
		}
		seen[inst] = true
		inst.Close(ctx)
	}
	if g.target() != MaxPoolReady {
		t.Fatalf("hits changed the target to %d", g.target())
	}
}

func TestPoolShrinksWhenIdle(t *testing.T) {
	g := newGatedPool(t, 1)
	defer g.Close()
	ctx := context.Background()
	for range 3 {
		inst, err := g.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inst.Close(ctx)
	}
	g.let(t, 4)
	if g.target() != 4 || g.Ready() != 4 {
		t.Fatalf("target %d, ready %d after three misses, want 4 and 4", g.target(), g.Ready())
	}
	g.Pool.mu.Lock()
	lastMiss := g.lastMiss
	g.Pool.mu.Unlock()

	// Not idle long enough: nothing changes.
	g.shrink(lastMiss.Add(poolIdleStep / 2))
	if g.target() != 4 || g.Ready() != 4 {
		t.Fatalf("target %d, ready %d after a short pause, want 4 and 4", g.target(), g.Ready())
	}
	// Each idle step drops one instance, newest first, down to the size.
	for want := 3; want >= 0; want-- {
		g.shrink(lastMiss.Add(poolIdleStep))
		if got := max(want, 1); g.target() != got || g.Ready() != got {
			t.Fatalf("target %d, ready %d after an idle step, want %d and %d", g.target(), g.Ready(), got, got)
		}
	}
	for i, inst := range g.made {
		if closed := isClosed(inst); closed != (i > 0) {
			t.Errorf("instance %d closed = %v after shrinking to one, want %v", i, closed, i > 0)
		}
	}
}

func TestPoolCloseFreesAll(t *testing.T) {
	g := newGatedPool(t, 2)
	g.let(t, 2)
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
	// The filler is now waiting at the gate to replace it; Close must stop
	// it there (a hang is a failure) and close every instance it holds.
	g.Close()
	for _, inst := range g.made {
		if inst != handed && !isClosed(inst) {
			t.Error("Close left a ready instance open")
		}
	}
	if !isClosed(retired) {
		t.Error("Close returned before a retired instance was closed")
	}
	if isClosed(handed) {
		t.Error("Close closed an instance it had handed out")
	}
	g.Retire(handed) // after Close: closed at once
	if !isClosed(handed) {
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
