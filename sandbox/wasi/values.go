package wasi

import (
	"context"
	"fmt"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Component values as package types represents them.

func okValue(v any) types.VariantValue  { return types.VariantValue{Case: 0, Value: v} }
func errValue(v any) types.VariantValue { return types.VariantValue{Case: 1, Value: v} }
func someValue(v any) types.VariantValue {
	return types.VariantValue{Case: 1, Value: v}
}

var noneValue = types.VariantValue{Case: 0}

// one wraps a single result.
func one(v any) ([]any, error) { return []any{v}, nil }

// caseIndex returns the index of label in an enum's labels or a variant's
// cases. A missing label is a bug in this package (the WIT is embedded).
func caseIndex(t *types.Type, label string) uint32 {
	switch t.Kind {
	case types.Enum:
		for i, l := range t.Labels {
			if l == label {
				return uint32(i)
			}
		}
	case types.Variant:
		for i, c := range t.Cases {
			if c.Name == label {
				return uint32(i)
			}
		}
	}
	panic(fmt.Sprintf("wasi: type %s has no case %s", t, label))
}

// hostObject returns the Go object behind a handle argument.
func hostObject[T any](arg any, fn string) (T, error) {
	var zero T
	h, ok := arg.(types.Handle)
	if !ok {
		return zero, fmt.Errorf("wasi: %s: expected a resource handle, got %T (a bug in the runtime)", fn, arg)
	}
	obj, ok := h.Host.(T)
	if !ok {
		return zero, fmt.Errorf("wasi: %s: the handle holds a %T, not a %T (a bug in the runtime)", fn, h.Host, zero)
	}
	return obj, nil
}

func handleValue(r *types.Resource, obj any) types.Handle {
	return types.Handle{Resource: r, Host: obj}
}

// bytesArg accepts a list<u8> argument: []any of uint8 per package types, or
// a []byte a runtime may pass to save the copy.
func bytesArg(arg any, fn string) ([]byte, error) {
	switch v := arg.(type) {
	case []byte:
		return v, nil
	case []any:
		b := make([]byte, len(v))
		for i, e := range v {
			u, ok := e.(uint8)
			if !ok {
				return nil, fmt.Errorf("wasi: %s: list<u8> element %d is a %T (a bug in the runtime)", fn, i, e)
			}
			b[i] = u
		}
		return b, nil
	}
	return nil, fmt.Errorf("wasi: %s: expected list<u8>, got %T (a bug in the runtime)", fn, arg)
}

// bytesValue returns a list<u8> value.
func bytesValue(p []byte) []any {
	out := make([]any, len(p))
	for i, b := range p {
		out[i] = b
	}
	return out
}

func stringArg(arg any, fn string) (string, error) {
	s, ok := arg.(string)
	if !ok {
		return "", fmt.Errorf("wasi: %s: expected a string, got %T (a bug in the runtime)", fn, arg)
	}
	return s, nil
}

func u64Arg(arg any, fn string) (uint64, error) {
	v, ok := arg.(uint64)
	if !ok {
		return 0, fmt.Errorf("wasi: %s: expected a u64, got %T (a bug in the runtime)", fn, arg)
	}
	return v, nil
}

func variantArg(arg any, fn string) (types.VariantValue, error) {
	v, ok := arg.(types.VariantValue)
	if !ok {
		return v, fmt.Errorf("wasi: %s: expected a variant, option or result, got %T (a bug in the runtime)", fn, arg)
	}
	return v, nil
}

// unreachable serves a function whose receiver no host function ever
// creates (an incoming HTTP request, a TCP socket…): the runtime's type
// checks make it impossible to call, and a call is a bug worth a trap.
func unreachable(iface, fn, why string) hostFn {
	return func(context.Context, []any) ([]any, error) {
		return nil, fmt.Errorf("wasi: %s#%s was called, but %s (a bug in the runtime)", iface, fn, why)
	}
}

// denyAll returns, for every function of iface whose result is
// result<_, E> (any ok type) with E an enum or variant having case label,
// a function that returns err(label). Other functions are left out, for
// the caller to implement.
func (h *Host) denyAll(iface, label string) map[string]hostFn {
	out := map[string]hostFn{}
	def := h.defs[iface]
	for _, name := range def.FuncNames() {
		f := def.Funcs[name]
		if len(f.Results) != 1 || f.Results[0].Type.Kind != types.Result {
			continue
		}
		errT := f.Results[0].Type.Err
		if errT == nil || (errT.Kind != types.Enum && errT.Kind != types.Variant) {
			continue
		}
		denied := errValue(types.VariantValue{Case: caseIndex(errT, label)})
		out[name] = func(ctx context.Context, args []any) ([]any, error) {
			releaseOwned(f, args)
			return one(denied)
		}
	}
	return out
}

// releaseOwned closes the host objects of the own<…> arguments a denied
// call received: ownership moved to the host, which is done with them.
func releaseOwned(f *types.Func, args []any) {
	for i, p := range f.Params {
		if p.Type.Kind != types.Own || i >= len(args) {
			continue
		}
		if h, ok := args[i].(types.Handle); ok {
			if c, ok := h.Host.(interface{ Close() error }); ok {
				_ = c.Close()
			}
		}
	}
}
