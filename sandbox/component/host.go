package component

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// HostInterface is an interface the host provides to components, such as
// wasi:io/streams. A component that imports "wasi:io/streams@0.2.3" is served
// by the HostInterface named "wasi:io/streams@0.2": any patch version of the
// same minor version matches, because toolchains mix patch versions within
// one component.
//
// A HostInterface is a static description: build it once and share it. State
// that belongs to one component instance lives in the Instance (see
// Instance.HostState) and is reached from the ctx each HostFunc receives.
type HostInterface struct {
	// Name is "namespace:package/interface@MAJOR.MINOR", such as "wasi:io/streams@0.2".
	// A pre-1.0 draft version ("0.2.0-draft") is matched exactly.
	Name string
	// Resources are the resource types the interface defines, by WIT name.
	// Handles of these types carry Go objects (types.Handle.Host); when the
	// guest drops one, the object's Close method runs if it has one.
	Resources map[string]*types.Resource
	// Funcs are the interface's functions by their component-level name:
	// "get-stdout", "[method]output-stream.write", "[static]fields.from-list",
	// "[constructor]fields". Resource drops are served by the runtime.
	Funcs map[string]HostFunc
}

// HostFunc is one host function. Fn receives the lifted arguments and returns
// the results to lower, both as the Go values package types documents.
//
// Fn's ctx is the ctx of the component call that reached it: it carries the
// calling Instance (InstanceFromContext) and the call's deadline. An error
// from Fn traps the guest: the call ends with that error. A WIT-level failure
// (a result's err case, such as a WASI error-code) is a value, not an error.
type HostFunc struct {
	Type *types.Func
	Fn   func(ctx context.Context, args []any) ([]any, error)
}

// A Registry is a set of host interfaces, looked up by import name.
// It is safe for concurrent use; interfaces are usually all added at start-up.
type Registry struct {
	mu     sync.RWMutex
	ifaces map[string]*HostInterface // by Name (major.minor)
}

// NewRegistry returns a registry holding ifaces.
func NewRegistry(ifaces ...*HostInterface) *Registry {
	r := &Registry{ifaces: map[string]*HostInterface{}}
	for _, i := range ifaces {
		r.Add(i)
	}
	return r
}

// Add adds or replaces the interface named i.Name.
// It panics on a malformed name: that is a programming error in the caller.
func (r *Registry) Add(i *HostInterface) {
	key, ok := versionKey(i.Name)
	if !ok || key != i.Name {
		panic(fmt.Sprintf("component: host interface name %q must be ns:pkg/iface@MAJOR.MINOR", i.Name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ifaces == nil {
		r.ifaces = map[string]*HostInterface{}
	}
	r.ifaces[key] = i
}

// Lookup returns the interface that serves an import named name (such as
// "wasi:io/streams@0.2.3"), or nil.
func (r *Registry) Lookup(name string) *HostInterface {
	if r == nil {
		return nil
	}
	key, ok := versionKey(name)
	if !ok {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ifaces[key]
}

// Names returns the names of the registered interfaces, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.ifaces))
	for k := range r.ifaces {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// versionKey maps an interface import name to the key hosts register under:
// "wasi:io/streams@0.2.3" → "wasi:io/streams@0.2"; "x:y/z@1.4.0" → "x:y/z@1";
// a prerelease ("0.2.0-draft") is kept whole. ok is false for names that are
// not versioned interface names.
func versionKey(name string) (key string, ok bool) {
	base, ver, found := strings.Cut(name, "@")
	if !found || !strings.Contains(base, ":") || !strings.Contains(base, "/") {
		return "", false
	}
	if strings.ContainsAny(ver, "-+") {
		return name, true
	}
	parts := strings.Split(ver, ".")
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return "", false
		}
	}
	switch {
	case len(parts) == 2 && parts[0] == "0":
		return name, true
	case len(parts) == 1 && parts[0] != "0":
		return name, true
	case len(parts) != 3:
		return "", false
	case parts[0] == "0":
		return base + "@0." + parts[1], true
	default:
		return base + "@" + parts[0], true
	}
}
