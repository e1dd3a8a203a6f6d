package wasi

import (
	"context"
	"crypto/x509"
	"embed"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/wasi/internal/wit"
)

// Defaults of Config and Limits: what a zero field means.
const (
	DefaultOutputLimit    = 1 << 20 // bytes of stdout, and of stderr, kept per instance
	DefaultMaxHandles     = 4096    // host resources a guest may hold open at once
	DefaultMaxPollables   = 1024    // of those, pollables; also the longest list poll accepts
	DefaultMaxRandomBytes = 1 << 20 // bytes one get-random-bytes call may ask for
	DefaultMaxReadBytes   = 1 << 20 // bytes one stream read, skip or splice moves
	DefaultMaxFieldsBytes = 1 << 20 // bytes of names and values one wasi:http fields may hold
	DefaultMaxBodyBytes   = 1 << 20 // bytes of an outgoing HTTP body kept until the request is sent

	DefaultMaxResponseBytes    = 16 << 20 // bytes of one HTTP response body a guest may read
	DefaultMaxConnections      = 16       // HTTP requests in flight and TCP sockets open, per instance
	DefaultConnectTimeout      = 30 * time.Second
	DefaultFirstByteTimeout    = 60 * time.Second
	DefaultBetweenBytesTimeout = 60 * time.Second
)

// Config says what a Host gives its guests. The zero Config is a working,
// deny-everything host: no environment, an empty config store, stdout and
// stderr captured up to DefaultOutputLimit and logged nowhere.
type Config struct {
	// StdoutLimit and StderrLimit are the bytes of each stream kept per
	// instance; 0 means DefaultOutputLimit. Past the limit the stream reports
	// closed to the guest and Output marks the text as truncated.
	StdoutLimit, StderrLimit int

	// OutputLog, if set, receives every chunk of stdout and stderr the guest
	// writes and the host keeps (so it is capped like Output), as it is
	// written. ctx is the call's: it carries the Instance and whatever the
	// runtime put there to find the call's log. It runs on the guest's call,
	// so it must not block for long; p is only valid during the call.
	// Guest output never goes to the process's own stdout, which may be the
	// MCP stdio channel.
	OutputLog func(ctx context.Context, stream Stream, p []byte)

	// Environment, if set, returns the variables wasi:cli/environment shows
	// an instance. It is called once per instance, at the guest's first
	// get-environment; nil means an empty environment.
	Environment func(ctx context.Context) ([][2]string, error)

	// Store serves wasi:config/store; nil means an empty store.
	Store ConfigStore

	// Limits caps what a guest can make the host hold.
	Limits Limits

	// Resolver resolves the host names of wasi:http requests and
	// wasi:sockets lookups, after the name was allowed; nil means
	// net.DefaultResolver. Tests set it to map a name to a refused address.
	Resolver Resolver

	// RootCAs verifies HTTPS servers; nil means the system's roots.
	RootCAs *x509.CertPool
}

// Limits caps the host memory a guest can make the host spend. A zero field
// means its Default… constant.
type Limits struct {
	// MaxHandles caps the host resources (streams, pollables, errors, HTTP
	// fields and requests…) one instance may hold open. Creating one more traps.
	MaxHandles int
	// MaxPollables caps the pollables one instance may hold, and the length
	// of the list wasi:io/poll.poll accepts. Past it, the call traps.
	MaxPollables int
	// MaxRandomBytes caps the length get-random-bytes and
	// get-insecure-random-bytes accept. The specification requires exactly
	// len bytes, so a longer request traps rather than returning fewer.
	MaxRandomBytes int
	// MaxReadBytes caps the bytes one input-stream read or skip, or one
	// splice, moves. The specification lets a read return fewer bytes than
	// asked, so a longer request is shortened, not refused.
	MaxReadBytes int
	// MaxFieldsBytes caps the bytes of names and values one wasi:http fields
	// (a header or trailer map) holds. Adding past it traps.
	MaxFieldsBytes int
	// MaxBodyBytes caps the bytes of one outgoing HTTP body the host keeps
	// while the request is built; past it the body stream reports closed.
	MaxBodyBytes int
	// MaxResponseBytes caps the bytes of one incoming HTTP response body;
	// reading past it ends the call.
	MaxResponseBytes int
	// MaxConnections caps the HTTP requests in flight and the TCP sockets
	// one instance holds at once; past it a request gets
	// connection-limit-reached and a socket new-socket-limit.
	MaxConnections int
	// ConnectTimeout, FirstByteTimeout and BetweenBytesTimeout bound an
	// outgoing connection, the wait for a response's head, and each wait
	// for more of its body. A guest's request-options may shorten them,
	// never lengthen them; 0 means the Default… constant.
	ConnectTimeout, FirstByteTimeout, BetweenBytesTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxHandles, DefaultMaxHandles)
	def(&l.MaxPollables, DefaultMaxPollables)
	def(&l.MaxRandomBytes, DefaultMaxRandomBytes)
	def(&l.MaxReadBytes, DefaultMaxReadBytes)
	def(&l.MaxFieldsBytes, DefaultMaxFieldsBytes)
	def(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&l.MaxResponseBytes, DefaultMaxResponseBytes)
	def(&l.MaxConnections, DefaultMaxConnections)
	defDuration := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDuration(&l.ConnectTimeout, DefaultConnectTimeout)
	defDuration(&l.FirstByteTimeout, DefaultFirstByteTimeout)
	defDuration(&l.BetweenBytesTimeout, DefaultBetweenBytesTimeout)
	return l
}

// ConfigStore serves wasi:config/store. Implementations must be safe for
// concurrent use: instances of many calls share one.
type ConfigStore interface {
	// Get returns the value of key; ok is false when the key is not set.
	// An error reaches the guest as the store's upstream error, its text included.
	Get(ctx context.Context, key string) (value string, ok bool, err error)
	// GetAll returns every key and value the guest may see.
	GetAll(ctx context.Context) ([][2]string, error)
}

// Stream names a guest output stream.
type Stream uint8

// The guest output streams.
const (
	Stdout Stream = iota + 1
	Stderr
)

func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return fmt.Sprintf("stream(%d)", uint8(s))
}

// Host serves WASI 0.2 to component instances. It is immutable once built
// and safe for concurrent use by any number of instances; what belongs to one
// instance lives in that instance's host state.
type Host struct {
	cfg    Config
	start  time.Time // the monotonic clock's zero
	defs   map[string]*wit.Interface
	ifaces []*component.HostInterface

	// Resource types the implementations hand out.
	pollableRes, errorRes, inputStreamRes, outputStreamRes *types.Resource
	networkRes                                             *types.Resource
	fieldsRes, outgoingRequestRes, outgoingBodyRes         *types.Resource
	outgoingResponseRes, requestOptionsRes                 *types.Resource
}

//go:embed wit/*.wit
var witFiles embed.FS

// loadWIT parses the embedded WIT. Its result is immutable, so every Host
// shares it, and with it every resource type's identity.
var loadWIT = sync.OnceValues(func() (map[string]*wit.Interface, error) {
	entries, err := witFiles.ReadDir("wit")
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := witFiles.ReadFile(path.Join("wit", e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = string(b)
	}
	return wit.Load(files)
})

// New returns a Host serving cfg. It panics if the embedded WIT does not
// parse or an interface's implementation does not match it: both are
// programming errors in this package, caught by its tests.
func New(cfg Config) *Host {
	defs, err := loadWIT()
	if err != nil {
		panic(fmt.Sprintf("wasi: embedded WIT: %v", err))
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.StdoutLimit == 0 {
		cfg.StdoutLimit = DefaultOutputLimit
	}
	if cfg.StderrLimit == 0 {
		cfg.StderrLimit = DefaultOutputLimit
	}
	h := &Host{cfg: cfg, start: time.Now(), defs: defs}
	h.pollableRes = h.resource("wasi:io/poll", "pollable")
	h.errorRes = h.resource("wasi:io/error", "error")
	h.inputStreamRes = h.resource("wasi:io/streams", "input-stream")
	h.outputStreamRes = h.resource("wasi:io/streams", "output-stream")
	h.networkRes = h.resource("wasi:sockets/network", "network")
	h.fieldsRes = h.resource("wasi:http/types", "fields")
	h.outgoingRequestRes = h.resource("wasi:http/types", "outgoing-request")
	h.outgoingBodyRes = h.resource("wasi:http/types", "outgoing-body")
	h.outgoingResponseRes = h.resource("wasi:http/types", "outgoing-response")
	h.requestOptionsRes = h.resource("wasi:http/types", "request-options")

	impls := map[string]map[string]hostFn{}
	for _, family := range []map[string]map[string]hostFn{
		h.ioFuncs(), h.clocksFuncs(), h.randomFuncs(), h.cliFuncs(),
		h.filesystemFuncs(), h.socketsFuncs(), h.httpFuncs(), h.storeFuncs(),
	} {
		for k, v := range family {
			impls[k] = v
		}
	}
	keys := make([]string, 0, len(defs))
	for k := range defs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.ifaces = append(h.ifaces, h.bind(defs[k], impls[k]))
		delete(impls, k)
	}
	for k := range impls {
		panic(fmt.Sprintf("wasi: implementation of %s, which the WIT does not declare", k))
	}
	return h
}

// Interfaces returns the host interfaces h serves, one per WASI interface,
// each named "ns:pkg/iface@0.2" (wasi:config's "@0.2.0-draft"), sorted by name.
// They are shared: do not modify them.
func (h *Host) Interfaces() []*component.HostInterface { return h.ifaces }

// Register adds h's interfaces to r, replacing any of the same names.
func (h *Host) Register(r *component.Registry) {
	for _, i := range h.ifaces {
		r.Add(i)
	}
}

// hostFn is a host function's body; its type comes from the WIT.
type hostFn = func(ctx context.Context, args []any) ([]any, error)

// onHandle returns an adapter from a resource method's body to a host
// function: the first argument is the handle of a T (resource names it in
// errors), the body gets the object and the other arguments.
func onHandle[T any](resource string) func(name string, fn func(ctx context.Context, obj T, args []any) ([]any, error)) hostFn {
	return func(name string, fn func(ctx context.Context, obj T, args []any) ([]any, error)) hostFn {
		return func(ctx context.Context, args []any) ([]any, error) {
			obj, err := hostObject[T](args[0], resource+"."+name)
			if err != nil {
				return nil, err
			}
			return fn(ctx, obj, args[1:])
		}
	}
}

// withState is onHandle for bodies that also need the calling instance's
// state; name is the whole function name, for errors.
func withState[T any](h *Host) func(name string, fn func(st *instanceState, obj T, args []any) ([]any, error)) hostFn {
	return func(name string, fn func(st *instanceState, obj T, args []any) ([]any, error)) hostFn {
		return func(ctx context.Context, args []any) ([]any, error) {
			obj, err := hostObject[T](args[0], name)
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			return fn(st, obj, args[1:])
		}
	}
}

// subscriber returns a resource's subscribe method: a pollable that is
// ready once the channel ready(obj) returns, asked at each poll, is closed.
func subscriber[T any](h *Host, name string, ready func(T) <-chan struct{}) hostFn {
	return withState[T](h)(name, func(st *instanceState, obj T, _ []any) ([]any, error) {
		p, err := h.newPollable(st, func() <-chan struct{} { return ready(obj) }, nil)
		if err != nil {
			return nil, err
		}
		return one(p)
	})
}

// bind joins an interface's WIT with its implementation. Every declared
// function must be implemented, and nothing else.
func (h *Host) bind(def *wit.Interface, impl map[string]hostFn) *component.HostInterface {
	hi := &component.HostInterface{
		Name:      hostInterfaceName(def),
		Resources: map[string]*types.Resource{},
		Funcs:     map[string]component.HostFunc{},
	}
	for name, r := range def.Resources {
		if r.Interface == def.ID { // only those the interface defines, not those it uses
			hi.Resources[name] = r
		}
	}
	for _, name := range def.FuncNames() {
		fn := impl[name]
		if fn == nil {
			panic(fmt.Sprintf("wasi: %s: %s has no implementation", def.ID, name))
		}
		hi.Funcs[name] = component.HostFunc{Type: def.Funcs[name], Fn: fn}
	}
	for name := range impl {
		if def.Funcs[name] == nil {
			panic(fmt.Sprintf("wasi: %s: implementation of %s, which the WIT does not declare", def.ID, name))
		}
	}
	return hi
}

// hostInterfaceName is the registry name: "wasi:io/streams@0.2" for any
// 0.2.x; a prerelease version ("0.2.0-draft") is kept whole.
func hostInterfaceName(def *wit.Interface) string {
	v := def.Version
	if !strings.ContainsAny(v, "-+") {
		parts := strings.Split(v, ".")
		if len(parts) == 3 && parts[0] == "0" {
			v = parts[0] + "." + parts[1]
		} else if len(parts) == 3 {
			v = parts[0]
		}
	}
	return def.Package + "/" + def.Name + "@" + v
}

func (h *Host) resource(iface, name string) *types.Resource {
	def := h.defs[iface]
	if def == nil || def.Resources[name] == nil {
		panic(fmt.Sprintf("wasi: embedded WIT has no resource %s in %s", name, iface))
	}
	return def.Resources[name]
}

func (h *Host) funcType(iface, name string) *types.Func {
	def := h.defs[iface]
	if def == nil || def.Funcs[name] == nil {
		panic(fmt.Sprintf("wasi: embedded WIT has no function %s in %s", name, iface))
	}
	return def.Funcs[name]
}

// valueType returns a named value type of an interface.
func (h *Host) valueType(iface, name string) *types.Type {
	def := h.defs[iface]
	if def == nil || def.Types[name] == nil {
		panic(fmt.Sprintf("wasi: embedded WIT has no type %s in %s", name, iface))
	}
	return def.Types[name]
}

// Output is what a guest wrote to stdout and stderr during one instance's life.
type Output struct {
	// Stdout and Stderr are the kept bytes. When the guest wrote more than
	// the limit, they end with a line saying so and naming the setting.
	Stdout, Stderr []byte
	// StdoutTruncated and StderrTruncated report that the stream reached
	// its limit: the guest saw it close, and whatever it wrote past the
	// limit was dropped.
	StdoutTruncated, StderrTruncated bool
}

// Output returns what inst's guest has written so far. It is safe to call
// while the guest runs; the returned slices are copies.
func (h *Host) Output(inst *component.Instance) Output {
	st := h.instanceState(inst)
	var out Output
	out.Stdout, out.StdoutTruncated = st.stdout.captured("stdout", "StdoutLimit")
	out.Stderr, out.StderrTruncated = st.stderr.captured("stderr", "StderrLimit")
	return out
}

// instanceState is what h keeps for one component instance.
type instanceState struct {
	limits Limits

	mu        sync.Mutex
	handles   int // live host resources created for this instance
	pollables int // of which pollables

	stdout, stderr *captureSink

	envOnce sync.Once
	env     []any // the list<tuple<string, string>> get-environment returns
	envErr  error
}

func (h *Host) instanceState(inst *component.Instance) *instanceState {
	return inst.HostState(h, func() any {
		return &instanceState{
			limits: h.cfg.Limits,
			stdout: newCaptureSink(Stdout, h.cfg.StdoutLimit, h.cfg.OutputLog),
			stderr: newCaptureSink(Stderr, h.cfg.StderrLimit, h.cfg.OutputLog),
		}
	}).(*instanceState)
}

// state returns the state of the instance whose call is running on ctx.
func (h *Host) state(ctx context.Context) (*instanceState, error) {
	inst := component.InstanceFromContext(ctx)
	if inst == nil {
		return nil, fmt.Errorf("wasi: host function called outside a component instance (a bug in the runtime: every call's ctx must carry its Instance)")
	}
	return h.instanceState(inst), nil
}

// LimitError is the trap when a guest goes past one of Limits (or the
// output limits) in a way the WASI specification does not let the host
// answer with a shorter result.
type LimitError struct {
	// What the guest asked for, such as "get-random-bytes of 4194304 bytes".
	What string
	// Setting names the field that raises the limit, such as "Limits.MaxRandomBytes".
	Setting string
	// Limit is the value in force.
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("wasi: %s is over the limit of %d (raise wasi.Config.%s)", e.What, e.Limit, e.Setting)
}

// ExitError is how a guest's wasi:cli/exit ends a call: the host function
// returns it as its error, so the call traps with it and the runtime can
// tell an exit (errors.As) from a crash. Code is 0 for exit(ok), 1 for
// exit(err) and the given code for exit-with-code. The process is never exited.
type ExitError struct {
	Code uint8
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("the component exited with status %d (wasi:cli/exit)", e.Code)
}

// ExitStatus returns the status the guest exited with; the runtime reads it
// to end the call as the guest asked (see component.Instance.Call).
func (e *ExitError) ExitStatus() int { return int(e.Code) }

// tracked is embedded by every host resource object: it counts the object
// against the instance's handle limits until the guest drops it.
type tracked struct {
	st       *instanceState
	pollable bool
	closed   atomic.Bool
}

// track counts a new resource object t (of kind what, for messages) against
// st's limits; it fails when the instance is at a limit.
func (st *instanceState) track(t *tracked, what string, pollable bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.handles >= st.limits.MaxHandles {
		return &LimitError{What: fmt.Sprintf("creating a %s with %d resources open", what, st.handles), Setting: "Limits.MaxHandles", Limit: st.limits.MaxHandles}
	}
	if pollable && st.pollables >= st.limits.MaxPollables {
		return &LimitError{What: fmt.Sprintf("creating a pollable with %d pending", st.pollables), Setting: "Limits.MaxPollables", Limit: st.limits.MaxPollables}
	}
	st.handles++
	if pollable {
		st.pollables++
	}
	t.st, t.pollable = st, pollable
	return nil
}

// Close releases the object's place in its instance's limits. The runtime
// calls it when the guest drops the handle; it is idempotent.
func (t *tracked) Close() error {
	if t.st == nil || t.closed.Swap(true) {
		return nil
	}
	t.st.mu.Lock()
	t.st.handles--
	if t.pollable {
		t.st.pollables--
	}
	t.st.mu.Unlock()
	return nil
}

var _ io.Closer = (*tracked)(nil)
