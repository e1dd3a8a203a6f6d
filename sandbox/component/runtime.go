package component

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"tapedeck.dev/tapedeck/sandbox/component/internal/binary"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Config configures a Runtime. The zero value is usable: compiled code is
// kept in memory only and no host interfaces are provided.
type Config struct {
	// CacheDir is a folder for compiled native code, kept between runs and
	// keyed by content hash, so a component compiles once per machine.
	// Empty: compiled code lives in memory only. The folder holds native code
	// the process will execute: it must be writable by Tapedeck alone.
	CacheDir string

	// Hosts provides the interfaces components import. nil: none.
	Hosts *Registry

	// Interpreter runs guests in wazero's interpreter instead of compiling
	// them to native code: much faster to load, much slower to run.
	Interpreter bool

	// NoInterpreterFirst makes Compile wait for native code however long
	// it takes, instead of serving from the interpreter meanwhile.
	// Benchmarks of steady-state speed set it.
	NoInterpreterFirst bool

	// InterpreterAfter is how long Compile waits for native code before it
	// serves from the interpreter; zero means DefaultInterpreterAfter.
	InterpreterAfter time.Duration
}

// Runtime compiles and runs components. It is safe for concurrent use; one
// per process is the usual shape, since it owns the compiled-code cache.
type Runtime struct {
	wz              wazero.Runtime // the compiler's (or the interpreter's, with Config.Interpreter)
	interp          wazero.Runtime // the interpreter's, for first calls while native code compiles; may be nil
	interpreterOnly bool
	interpAfter     time.Duration
	cache           wazero.CompilationCache
	hosts           *Registry
	nextID          atomic.Uint64
	// background counts compilations still running after Compile returned
	// (native code for a component served from the interpreter meanwhile);
	// Close waits for them, as wazero must not be closed under a compiler.
	background sync.WaitGroup
}

// NewRuntime returns a Runtime configured by cfg.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	var rc wazero.RuntimeConfig
	if cfg.Interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	} else {
		rc = wazero.NewRuntimeConfig()
	}
	// A call's deadline stops a guest in a loop: wazero checks the context
	// while it runs and closes the module when the context is done.
	rc = rc.WithCloseOnContextDone(true)
	r := &Runtime{hosts: cfg.Hosts}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("component runtime: compilation cache in %s: %w", cfg.CacheDir, err)
		}
		r.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	r.wz = wazero.NewRuntimeWithConfig(ctx, rc)
	r.interpreterOnly = cfg.Interpreter
	r.interpAfter = cfg.InterpreterAfter
	if r.interpAfter <= 0 {
		r.interpAfter = DefaultInterpreterAfter
	}
	if !cfg.Interpreter && !cfg.NoInterpreterFirst {
		r.interp = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true))
	}
	return r, nil
}

// Close releases everything the runtime compiled and every instance still
// open. It first waits for compilations still running in the background
// (seconds, for a large component loaded moments ago).
func (r *Runtime) Close(ctx context.Context) error {
	r.background.Wait()
	err := r.wz.Close(ctx)
	if r.interp != nil {
		err = errors.Join(err, r.interp.Close(ctx))
	}
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Component is a compiled component, ready to instantiate. It is immutable
// and safe for concurrent use.
type Component struct {
	rt     *Runtime
	bin    *binary.Component
	plan   *plan
	funcs  []*Func
	digest [32]byte
	size   int

	eng       atomic.Pointer[engine] // nil once closed
	upgrading sync.WaitGroup         // the compiler, while instances run interpreted
	closed    atomic.Bool
}

// Func is a function a component exports, which the host can call.
type Func struct {
	// Path is the export names leading to the function: ["greet"] for a
	// world-level export, ["local:demo/tools@0.1.0", "greet"] for a
	// function of an exported interface.
	Path []string
	// Type is its component-level type.
	Type *types.Func

	fn *compFunc
}

// Name returns the function's own name (the last element of Path).
func (f *Func) Name() string { return f.Path[len(f.Path)-1] }

// Compile decodes, validates, links and compiles a component binary. The
// bytes must not change while the Component is in use.
//
// # Errors
//
// A malformed or invalid binary gives an error naming the byte offset; an
// import no host interface provides gives a *LinkError naming it.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*Component, error) {
	bin, err := binary.Decode(wasm)
	if err != nil {
		return nil, err
	}
	c := &Component{rt: r, bin: bin, digest: sha256.Sum256(wasm), size: len(wasm)}
	hostName := "tapedeck:host#" + strconv.FormatUint(r.nextID.Add(1), 10)
	p, err := link(bin, r.hosts, hostName)
	if err != nil {
		return nil, err
	}
	c.plan = p
	if err := c.compileEngines(ctx); err != nil {
		return nil, err
	}
	c.funcs = collectFuncs(nil, p.exports)
	return c, nil
}

func collectFuncs(prefix []string, inst *compInstance) []*Func {
	var out []*Func
	for _, name := range inst.names {
		item := inst.items[name]
		path := append(append([]string(nil), prefix...), name)
		switch {
		case item.fn != nil:
			out = append(out, &Func{Path: path, Type: item.fn.typ, fn: item.fn})
		case item.inst != nil:
			out = append(out, collectFuncs(path, item.inst)...)
		}
	}
	return out
}

// Funcs returns the functions the component exports, in export order.
func (c *Component) Funcs() []*Func { return c.funcs }

// Func returns the exported function at path, or nil.
func (c *Component) Func(path ...string) *Func {
	for _, f := range c.funcs {
		if equalPath(f.Path, path) {
			return f
		}
	}
	return nil
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Digest returns the SHA-256 of the component's bytes.
func (c *Component) Digest() [32]byte { return c.digest }

// Size returns the component's size in bytes.
func (c *Component) Size() int { return c.size }

// PackageDocs returns the component's package-docs custom section, or nil.
func (c *Component) PackageDocs() []byte { return c.bin.PackageDocs }

// Close releases the compiled code once the instances still open close.
func (c *Component) Close(ctx context.Context) error {
	if c.closed.Swap(true) {
		return nil
	}
	if e := c.eng.Swap(nil); e != nil {
		e.release()
	}
	return nil
}
