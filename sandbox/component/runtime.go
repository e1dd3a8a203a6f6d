package component

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

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
}

// Runtime compiles and runs components. It is safe for concurrent use; one
// per process is the usual shape, since it owns the compiled-code cache.
type Runtime struct {
	wz     wazero.Runtime
	cache  wazero.CompilationCache
	hosts  *Registry
	nextID atomic.Uint64
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
	return r, nil
}

// Close releases everything the runtime compiled and every instance still open.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.wz.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Component is a compiled component, ready to instantiate. It is immutable
// and safe for concurrent use.
type Component struct {
	rt       *Runtime
	bin      *binary.Component
	plan     *plan
	compiled []wazero.CompiledModule // per plan.modules
	hostMod  api.Module
	funcs    []*Func
	digest   [32]byte
	size     int

	closeOnce sync.Once
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
	ok := false
	defer func() {
		if !ok {
			c.Close(ctx)
		}
	}()
	c.compiled = make([]wazero.CompiledModule, len(p.modules))
	for i, m := range p.modules {
		cm, err := r.wz.CompileModule(ctx, m.bytes)
		if err != nil {
			if m.def != nil {
				return nil, fmt.Errorf("component: core module at byte offset %#x: %w", m.def.Offset, err)
			}
			return nil, fmt.Errorf("component: linking: generated module %d: %w", i, err)
		}
		c.compiled[i] = cm
	}
	if err := c.instantiateHostModule(ctx); err != nil {
		return nil, err
	}
	c.funcs = collectFuncs(nil, p.exports)
	ok = true
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

// Close releases the compiled code. Open instances must be closed first.
func (c *Component) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		if c.hostMod != nil {
			err = errors.Join(err, c.hostMod.Close(ctx))
		}
		for _, cm := range c.compiled {
			if cm != nil {
				err = errors.Join(err, cm.Close(ctx))
			}
		}
	})
	return err
}
