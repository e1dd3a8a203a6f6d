package wasi

import (
	"context"
	"fmt"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// caller calls a Host's functions as the runtime would, for one instance,
// and checks every argument and result against the function's WIT type.
type caller struct {
	t    testing.TB
	h    *Host
	inst *component.Instance
	ctx  context.Context
	fns  map[string]component.HostFunc // "iface#func"
}

func newCaller(t testing.TB, h *Host) *caller {
	t.Helper()
	inst := component.NewHostInstance()
	c := &caller{t: t, h: h, inst: inst, ctx: component.WithInstance(context.Background(), inst), fns: map[string]component.HostFunc{}}
	for _, hi := range h.Interfaces() {
		for name, f := range hi.Funcs {
			c.fns[hi.Name+"#"+name] = f
		}
	}
	return c
}

// try calls iface#fn (iface as registered, "wasi:io/poll@0.2") and returns
// its results and error; a result that does not match the type fails the test.
func (c *caller) try(ctx context.Context, iface, fn string, args ...any) ([]any, error) {
	c.t.Helper()
	f, ok := c.fns[iface+"#"+fn]
	if !ok {
		c.t.Fatalf("no function %s#%s", iface, fn)
	}
	if len(args) != len(f.Type.Params) {
		c.t.Fatalf("%s#%s takes %d arguments, test passed %d", iface, fn, len(f.Type.Params), len(args))
	}
	for i, p := range f.Type.Params {
		if err := checkValue(p.Type, args[i]); err != nil {
			c.t.Fatalf("%s#%s: test's argument %s: %v", iface, fn, p.Name, err)
		}
	}
	res, err := f.Fn(ctx, args)
	if err != nil {
		return nil, err
	}
	if len(res) != len(f.Type.Results) {
		c.t.Fatalf("%s#%s returned %d results, its type has %d", iface, fn, len(res), len(f.Type.Results))
	}
	for i, r := range f.Type.Results {
		if err := checkValue(r.Type, res[i]); err != nil {
			c.t.Fatalf("%s#%s: result %d does not match %s: %v", iface, fn, i, r.Type, err)
		}
	}
	return res, nil
}

// call is try that fails the test on an error and returns the only result (or nil).
func (c *caller) call(iface, fn string, args ...any) any {
	c.t.Helper()
	res, err := c.try(c.ctx, iface, fn, args...)
	if err != nil {
		c.t.Fatalf("%s#%s: %v", iface, fn, err)
	}
	if len(res) == 0 {
		return nil
	}
	return res[0]
}

// ok returns the payload of a result value, failing if it is an err.
func (c *caller) ok(v any) any {
	c.t.Helper()
	r := v.(types.VariantValue)
	if r.Case != 0 {
		c.t.Fatalf("got err(%v), want ok", r.Value)
	}
	return r.Value
}

// drop closes a handle's host object, as the runtime does when the guest drops it.
func drop(h any) {
	if c, ok := h.(types.Handle).Host.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// checkValue reports whether v is a value of type t as package types represents values.
func checkValue(t *types.Type, v any) error {
	want := func(ok bool) error {
		if !ok {
			return fmt.Errorf("%T is not a %s", v, t)
		}
		return nil
	}
	switch t.Kind {
	case types.Bool:
		_, ok := v.(bool)
		return want(ok)
	case types.S8:
		_, ok := v.(int8)
		return want(ok)
	case types.U8:
		_, ok := v.(uint8)
		return want(ok)
	case types.S16:
		_, ok := v.(int16)
		return want(ok)
	case types.U16:
		_, ok := v.(uint16)
		return want(ok)
	case types.S32:
		_, ok := v.(int32)
		return want(ok)
	case types.U32:
		_, ok := v.(uint32)
		return want(ok)
	case types.S64:
		_, ok := v.(int64)
		return want(ok)
	case types.U64:
		_, ok := v.(uint64)
		return want(ok)
	case types.F32:
		_, ok := v.(float32)
		return want(ok)
	case types.F64:
		_, ok := v.(float64)
		return want(ok)
	case types.Char:
		_, ok := v.(rune)
		return want(ok)
	case types.String:
		_, ok := v.(string)
		return want(ok)
	case types.Flags:
		_, ok := v.(uint32)
		return want(ok)
	case types.List:
		l, ok := v.([]any)
		if !ok {
			return want(false)
		}
		for i, e := range l {
			if err := checkValue(t.Elem, e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	case types.Record, types.Tuple:
		l, ok := v.([]any)
		if !ok || len(l) != len(t.Fields) {
			return fmt.Errorf("%#v is not a %s", v, t)
		}
		for i, f := range t.Fields {
			if err := checkValue(f.Type, l[i]); err != nil {
				return fmt.Errorf("field %d: %w", i, err)
			}
		}
		return nil
	case types.Own, types.Borrow:
		h, ok := v.(types.Handle)
		if !ok {
			return want(false)
		}
		if h.Resource != t.Resource {
			return fmt.Errorf("handle of %v, want %v", h.Resource, t.Resource)
		}
		return nil
	}
	vv, ok := v.(types.VariantValue)
	if !ok {
		return want(false)
	}
	var payload *types.Type
	switch t.Kind {
	case types.Enum:
		if int(vv.Case) >= len(t.Labels) {
			return fmt.Errorf("case %d of %d labels", vv.Case, len(t.Labels))
		}
	case types.Variant:
		if int(vv.Case) >= len(t.Cases) {
			return fmt.Errorf("case %d of %d cases", vv.Case, len(t.Cases))
		}
		payload = t.Cases[vv.Case].Type
	case types.Option:
		if vv.Case > 1 {
			return fmt.Errorf("option case %d", vv.Case)
		}
		if vv.Case == 1 {
			payload = t.Elem
		}
	case types.Result:
		if vv.Case > 1 {
			return fmt.Errorf("result case %d", vv.Case)
		}
		payload = t.OK
		if vv.Case == 1 {
			payload = t.Err
		}
	default:
		return fmt.Errorf("unexpected kind %s", t.Kind)
	}
	if payload == nil {
		if vv.Value != nil {
			return fmt.Errorf("case %d of %s has no payload, got %T", vv.Case, t, vv.Value)
		}
		return nil
	}
	return checkValue(payload, vv.Value)
}

// zeroValue returns a value of type t, with handles of no object: for
// calling functions that must answer whatever their arguments.
func zeroValue(t *types.Type) any {
	switch t.Kind {
	case types.Bool:
		return false
	case types.S8:
		return int8(0)
	case types.U8:
		return uint8(0)
	case types.S16:
		return int16(0)
	case types.U16:
		return uint16(0)
	case types.S32:
		return int32(0)
	case types.U32:
		return uint32(0)
	case types.S64:
		return int64(0)
	case types.U64:
		return uint64(0)
	case types.F32:
		return float32(0)
	case types.F64:
		return float64(0)
	case types.Char:
		return 'a'
	case types.String:
		return ""
	case types.Flags:
		return uint32(0)
	case types.List:
		return []any{}
	case types.Record, types.Tuple:
		l := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			l[i] = zeroValue(f.Type)
		}
		return l
	case types.Own, types.Borrow:
		return types.Handle{Resource: t.Resource}
	case types.Variant:
		if t.Cases[0].Type != nil {
			return types.VariantValue{Value: zeroValue(t.Cases[0].Type)}
		}
		return types.VariantValue{}
	case types.Result:
		if t.OK != nil {
			return types.VariantValue{Value: zeroValue(t.OK)}
		}
		return types.VariantValue{}
	}
	return types.VariantValue{} // enum, option none
}
