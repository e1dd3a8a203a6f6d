package component_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// referenceHost runs a component transpiled by `jco transpile` in node (V8),
// serving calls as JSON lines: the differential oracle for the runtime.
type referenceHost struct {
	cmd *exec.Cmd
	in  *json.Encoder
	out *bufio.Scanner
}

func startReference(t *testing.T, name string) *referenceHost {
	t.Helper()
	node, script := testcomponents.ReferenceHost(t)
	cmd := exec.Command(node, script, testcomponents.Transpiled(t, name), "--serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &referenceHost{cmd: cmd, in: json.NewEncoder(stdin), out: sc}
}

type refAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Kind    string          `json:"kind"`
		Message string          `json:"message"`
		Payload json.RawMessage `json:"payload"`
	} `json:"error"`
}

func (r *referenceHost) call(t *testing.T, fn string, args []any) refAnswer {
	t.Helper()
	if err := r.in.Encode(map[string]any{"fn": fn, "args": args}); err != nil {
		t.Fatal(err)
	}
	if !r.out.Scan() {
		t.Fatalf("reference host ended: %v", r.out.Err())
	}
	var a refAnswer
	dec := json.NewDecoder(strings.NewReader(r.out.Text()))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("reference host answer %q: %v", r.out.Text(), err)
	}
	return a
}

// camel is jco's name for a WIT label: kebab-case to camelCase.
func camel(label string) string {
	parts := strings.Split(label, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// toJco converts a component value to jco's JSON convention (see
// scripts/jco-call.mjs). top is set for a function's own result or argument.
func toJco(t *types.Type, v any) any {
	switch t.Kind {
	case types.S64:
		return strconv.FormatInt(v.(int64), 10)
	case types.U64:
		return strconv.FormatUint(v.(uint64), 10)
	case types.Char:
		return string(v.(rune))
	case types.List:
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, toJco(t.Elem, e))
		}
		return out
	case types.Record:
		out := map[string]any{}
		for i, f := range t.Fields {
			out[camel(f.Name)] = toJco(f.Type, v.([]any)[i])
		}
		return out
	case types.Tuple:
		out := []any{}
		for i, f := range t.Fields {
			out = append(out, toJco(f.Type, v.([]any)[i]))
		}
		return out
	case types.Variant:
		vv := v.(types.VariantValue)
		c := t.Cases[vv.Case]
		m := map[string]any{"tag": c.Name}
		if c.Type != nil {
			m["val"] = toJco(c.Type, vv.Value)
		}
		return m
	case types.Enum:
		return t.Labels[v.(types.VariantValue).Case]
	case types.Option:
		vv := v.(types.VariantValue)
		if t.Elem.Kind == types.Option {
			if vv.Case == 0 {
				return map[string]any{"tag": "none"}
			}
			return map[string]any{"tag": "some", "val": toJco(t.Elem, vv.Value)}
		}
		if vv.Case == 0 {
			return nil
		}
		return toJco(t.Elem, vv.Value)
	case types.Result:
		vv := v.(types.VariantValue)
		tag, pt := "ok", t.OK
		if vv.Case == 1 {
			tag, pt = "err", t.Err
		}
		m := map[string]any{"tag": tag}
		if pt != nil {
			m["val"] = toJco(pt, vv.Value)
		}
		return m
	case types.Flags:
		out := map[string]any{}
		for i, l := range t.Labels {
			out[camel(l)] = v.(uint32)&(1<<i) != 0
		}
		return out
	}
	return v
}

// fromJco converts jco's JSON (decoded with UseNumber) back to a component value.
func fromJco(t *types.Type, j any) (any, error) {
	num := func() (json.Number, error) {
		n, ok := j.(json.Number)
		if !ok {
			return "", fmt.Errorf("want a number for %s, got %T", t, j)
		}
		return n, nil
	}
	switch t.Kind {
	case types.Bool:
		return j.(bool), nil
	case types.S8, types.S16, types.S32, types.S64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		switch t.Kind {
		case types.S8:
			return int8(i), err
		case types.S16:
			return int16(i), err
		case types.S32:
			return int32(i), err
		}
		return i, err
	case types.U8, types.U16, types.U32, types.U64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		u, err := strconv.ParseUint(n.String(), 10, 64)
		switch t.Kind {
		case types.U8:
			return uint8(u), err
		case types.U16:
			return uint16(u), err
		case types.U32:
			return uint32(u), err
		}
		return u, err
	case types.F32, types.F64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if t.Kind == types.F32 {
			return float32(f), err
		}
		return f, err
	case types.Char:
		r := []rune(j.(string))
		if len(r) != 1 {
			return nil, fmt.Errorf("char %q", j)
		}
		return r[0], nil
	case types.String:
		return j.(string), nil
	case types.List:
		out := []any{}
		for _, e := range j.([]any) {
			v, err := fromJco(t.Elem, e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case types.Record:
		m := j.(map[string]any)
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			v, err := fromJco(f.Type, m[camel(f.Name)])
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case types.Tuple:
		a := j.([]any)
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			v, err := fromJco(f.Type, a[i])
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case types.Variant:
		m := j.(map[string]any)
		for i, c := range t.Cases {
			if c.Name == m["tag"] {
				vv := types.VariantValue{Case: uint32(i)}
				if c.Type != nil {
					v, err := fromJco(c.Type, m["val"])
					if err != nil {
						return nil, err
					}
					vv.Value = v
				}
				return vv, nil
			}
		}
		return nil, fmt.Errorf("no case %v", m["tag"])
	case types.Enum:
		for i, l := range t.Labels {
			if l == j {
				return types.VariantValue{Case: uint32(i)}, nil
			}
		}
		return nil, fmt.Errorf("no enum case %v", j)
	case types.Option:
		if t.Elem.Kind == types.Option {
			m := j.(map[string]any)
			if m["tag"] == "none" {
				return types.VariantValue{Case: 0}, nil
			}
			v, err := fromJco(t.Elem, m["val"])
			return types.VariantValue{Case: 1, Value: v}, err
		}
		if j == nil {
			return types.VariantValue{Case: 0}, nil
		}
		v, err := fromJco(t.Elem, j)
		return types.VariantValue{Case: 1, Value: v}, err
	case types.Result:
		m := j.(map[string]any)
		c, pt := uint32(0), t.OK
		if m["tag"] == "err" {
			c, pt = 1, t.Err
		}
		vv := types.VariantValue{Case: c}
		if pt != nil {
			v, err := fromJco(pt, m["val"])
			if err != nil {
				return nil, err
			}
			vv.Value = v
		}
		return vv, nil
	case types.Flags:
		m := j.(map[string]any)
		var bits uint32
		for i, l := range t.Labels {
			if b, _ := m[camel(l)].(bool); b {
				bits |= 1 << i
			}
		}
		return bits, nil
	}
	return nil, fmt.Errorf("cannot convert %s", t)
}

// sampleValues gives values of t worth comparing: edges of each range,
// empty and non-empty containers, every case of every variant.
func sampleValues(t *types.Type) []any {
	switch t.Kind {
	case types.Bool:
		return []any{true, false}
	case types.S8:
		return []any{int8(math.MinInt8), int8(-1), int8(0), int8(math.MaxInt8)}
	case types.S16:
		return []any{int16(math.MinInt16), int16(0), int16(math.MaxInt16)}
	case types.S32:
		return []any{int32(math.MinInt32), int32(-7), int32(math.MaxInt32)}
	case types.S64:
		// componentize-js 0.23 traps on negative s64 results (see
		// testdata/components/README.md); both hosts must agree on that too.
		return []any{int64(0), int64(math.MaxInt64), int64(1 << 53), int64(-5)}
	case types.U8:
		return []any{uint8(0), uint8(255)}
	case types.U16:
		return []any{uint16(0), uint16(65535)}
	case types.U32:
		return []any{uint32(0), uint32(math.MaxUint32)}
	case types.U64:
		return []any{uint64(0), uint64(math.MaxUint64), uint64(1<<53 + 1)}
	case types.F32:
		return []any{float32(0), float32(1.5), float32(-3.25e10), float32(math.SmallestNonzeroFloat32)}
	case types.F64:
		return []any{0.0, -1.5, math.MaxFloat64, 1e-300}
	case types.Char:
		return []any{'a', 'é', '😀', rune(0x10FFFF)}
	case types.String:
		return []any{"", "hello", "héllo wörld 😀", strings.Repeat("x", 3000)}
	case types.List:
		var vs []any
		for _, e := range sampleValues(t.Elem) {
			vs = append(vs, e)
		}
		return []any{[]any{}, vs}
	case types.Record, types.Tuple:
		var out []any
		for i := 0; i < 2; i++ {
			rec := make([]any, len(t.Fields))
			for j, f := range t.Fields {
				s := sampleValues(f.Type)
				rec[j] = s[(i+j)%len(s)]
			}
			out = append(out, rec)
		}
		return out
	case types.Variant, types.Option, types.Result:
		var out []any
		for i, pt := range casesOf(t) {
			if pt == nil {
				out = append(out, types.VariantValue{Case: uint32(i)})
				continue
			}
			for _, v := range sampleValues(pt)[:1] {
				out = append(out, types.VariantValue{Case: uint32(i), Value: v})
			}
		}
		return out
	case types.Enum:
		var out []any
		for i := range t.Labels {
			out = append(out, types.VariantValue{Case: uint32(i)})
		}
		return out
	case types.Flags:
		all := uint32(1<<len(t.Labels) - 1)
		if len(t.Labels) == 32 {
			all = math.MaxUint32
		}
		return []any{uint32(0), uint32(1), all}
	}
	return nil
}

func casesOf(t *types.Type) []*types.Type {
	switch t.Kind {
	case types.Option:
		return []*types.Type{nil, t.Elem}
	case types.Result:
		return []*types.Type{t.OK, t.Err}
	}
	out := make([]*types.Type, len(t.Cases))
	for i, c := range t.Cases {
		out[i] = c.Type
	}
	return out
}

// TestDifferentialAllTypes calls every echo function of js-alltypes with
// sample values of its type in Tapedeck's runtime and in jco's (V8), and
// checks both return the same values — and fail the same way.
func TestDifferentialAllTypes(t *testing.T) {
	e := runtimeFor(t)
	c := e.compile(t, "js-alltypes")
	ref := startReference(t, "js-alltypes")
	ctx := context.Background()
	compared := 0
	for _, f := range c.Funcs() {
		name := f.Name()
		if !strings.HasPrefix(name, "echo-") {
			continue
		}
		pt := f.Type.Params[0].Type
		t.Run(name, func(t *testing.T) {
			for i, v := range sampleValues(pt) {
				inst, err := c.Instantiate(ctx, component.InstantiateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got, gotErr := inst.Call(ctx, f, []any{v})
				inst.Close(ctx)
				ans := ref.call(t, "types#"+name, []any{toJco(pt, v)})
				switch {
				case ans.Error != nil && ans.Error.Kind == "err":
					// jco throws a result's err at top level.
					var payload any
					var err error
					if pt.Err != nil {
						payload, err = fromJco(pt.Err, decodeAny(t, ans.Error.Payload))
					}
					if err != nil {
						t.Fatalf("sample %d: decoding jco's err payload: %v", i, err)
					}
					want := types.VariantValue{Case: 1, Value: payload}
					if gotErr != nil || !equalValues(got[0], want) {
						t.Errorf("sample %d (%v): tapedeck = %#v, %v; jco = err %#v", i, v, got, gotErr, want)
					}
				case ans.Error != nil:
					if gotErr == nil {
						t.Errorf("sample %d (%v): jco failed (%s: %s) but tapedeck returned %#v", i, v, ans.Error.Kind, ans.Error.Message, got)
					}
				default:
					raw := decodeAny(t, ans.Result)
					var want any
					var err error
					if pt.Kind == types.Result {
						// At top level jco returns the ok payload itself.
						var okv any
						if pt.OK != nil {
							okv, err = fromJco(pt.OK, raw)
						}
						want = types.VariantValue{Case: 0, Value: okv}
					} else {
						want, err = fromJco(pt, raw)
					}
					if err != nil {
						t.Fatalf("sample %d: decoding jco's result %s: %v", i, ans.Result, err)
					}
					if gotErr != nil {
						t.Errorf("sample %d (%v): tapedeck failed (%v) but jco returned %#v", i, v, gotErr, want)
					} else if !equalValues(got[0], want) {
						t.Errorf("sample %d (%v):\n tapedeck = %#v\n jco      = %#v", i, v, got[0], want)
					}
				}
				compared++
			}
		})
	}
	if compared < 50 {
		t.Fatalf("only %d values compared; the echo functions were not found", compared)
	}
}

func decodeAny(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}

func equalValues(a, b any) bool {
	if fa, ok := a.(float32); ok {
		fb, ok := b.(float32)
		return ok && (fa == fb || (fa != fa && fb != fb))
	}
	return reflect.DeepEqual(a, b)
}
