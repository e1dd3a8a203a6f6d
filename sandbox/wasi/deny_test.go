package wasi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// TestEveryOutsideFunctionDenies calls every function of the sockets
// interfaces (and, where the file system is not served, of the filesystem
// ones; on unix fs_test.go tests those) with placeholder arguments: each
// must return its interface's access-denied error code, or be one of the
// few that answer otherwise (listed here, with what they answer).
func TestEveryOutsideFunctionDenies(t *testing.T) {
	h := New(Config{})
	c := newCaller(t, h)
	answers := map[string]string{ // "iface#fn" → "none", "empty", "handle" or "unreachable"
		"wasi:filesystem/types@0.2#filesystem-error-code":             "none",
		"wasi:filesystem/types@0.2#[method]descriptor.is-same-object": "unreachable",
		"wasi:filesystem/preopens@0.2#get-directories":                "empty",
	}
	// wasi:sockets is served for real: net_test.go tests what it refuses.

	for _, hi := range h.Interfaces() {
		denial := ""
		switch {
		case strings.HasPrefix(hi.Name, "wasi:filesystem/"):
			if fileSystemServed {
				continue
			}
			denial = "access"
		default:
			continue
		}
		for name, f := range hi.Funcs {
			key := hi.Name + "#" + name
			t.Run(strings.NewReplacer("@", "_", "#", "_", ":", "_", "/", "_", "[", "", "]", "_").Replace(key), func(t *testing.T) {
				args := make([]any, len(f.Type.Params))
				for i, p := range f.Type.Params {
					args[i] = zeroValue(p.Type)
				}
				res, err := c.try(c.ctx, hi.Name, name, args...)
				switch answers[key] {
				case "unreachable":
					if err == nil || !strings.Contains(err.Error(), "never creates") && !strings.Contains(err.Error(), "no descriptor exists") {
						t.Errorf("= %v, %v; want a trap saying the receiver cannot exist", res, err)
					}
					return
				case "":
				default:
					if err != nil {
						t.Fatal(err)
					}
				}
				switch answers[key] {
				case "none":
					if res[0] != noneValue {
						t.Errorf("= %#v, want none", res[0])
					}
				case "empty":
					if l := res[0].([]any); len(l) != 0 {
						t.Errorf("= %v, want an empty list", l)
					}
				case "handle":
					if res[0].(types.Handle).Host == nil {
						t.Errorf("= %#v, want a handle", res[0])
					}
				default:
					if err != nil {
						t.Fatalf("trapped: %v", err)
					}
					r := f.Type.Results[0].Type
					v := res[0].(types.VariantValue)
					if r.Kind != types.Result || v.Case != 1 {
						t.Fatalf("= %#v, want err(%s)", v, denial)
					}
					code := v.Value.(types.VariantValue)
					if got := r.Err.Labels[code.Case]; got != denial {
						t.Errorf("= err(%s), want err(%s)", got, denial)
					}
				}
			})
		}
	}
}

func TestHTTPRequestBuiltThenDenied(t *testing.T) {
	h := New(Config{})
	c := newCaller(t, h)
	const ht = "wasi:http/types@0.2"
	hdrs := c.ok(c.call(ht, "[static]fields.from-list", []any{
		[]any{"Accept", bytesValue([]byte("application/json"))},
	}))
	c.ok(c.call(ht, "[method]fields.append", hdrs, "X-Trace", bytesValue([]byte("1"))))
	c.ok(c.call(ht, "[method]fields.append", hdrs, "x-trace", bytesValue([]byte("2"))))
	if got := c.call(ht, "[method]fields.get", hdrs, "X-TRACE").([]any); len(got) != 2 {
		t.Errorf("fields.get = %v, want both values, names matched without case", got)
	}
	if c.call(ht, "[method]fields.has", hdrs, "accept") != true {
		t.Error("fields.has(accept) = false")
	}
	c.ok(c.call(ht, "[method]fields.set", hdrs, "x-trace", []any{bytesValue([]byte("3"))}))
	c.ok(c.call(ht, "[method]fields.delete", hdrs, "accept"))
	entries := c.call(ht, "[method]fields.entries", hdrs).([]any)
	if len(entries) != 1 || entries[0].([]any)[0] != "x-trace" {
		t.Errorf("fields.entries = %v, want one x-trace", entries)
	}
	clone := c.call(ht, "[method]fields.clone", hdrs)
	drop(clone)

	req := c.call(ht, "[constructor]outgoing-request", hdrs)
	c.ok(c.call(ht, "[method]outgoing-request.set-method", req, types.VariantValue{Case: 2}))            // post
	c.ok(c.call(ht, "[method]outgoing-request.set-scheme", req, someValue(types.VariantValue{Case: 1}))) // HTTPS
	c.ok(c.call(ht, "[method]outgoing-request.set-authority", req, someValue("example.test:8443")))
	c.ok(c.call(ht, "[method]outgoing-request.set-path-with-query", req, someValue("/v1/items?q=1")))
	if m := c.call(ht, "[method]outgoing-request.method", req).(types.VariantValue); m.Case != 2 {
		t.Errorf("method = %#v, want post", m)
	}
	if a := c.call(ht, "[method]outgoing-request.authority", req); a != someValue("example.test:8443") {
		t.Errorf("authority = %#v", a)
	}
	// The request's headers are now immutable.
	view := c.call(ht, "[method]outgoing-request.headers", req)
	if r := c.call(ht, "[method]fields.append", view, "x-more", bytesValue(nil)).(types.VariantValue); r.Case != 1 || r.Value.(types.VariantValue).Case != 2 {
		t.Errorf("append to a request's headers = %#v, want err(immutable)", r)
	}
	drop(view)

	body := c.ok(c.call(ht, "[method]outgoing-request.body", req))
	if r := c.call(ht, "[method]outgoing-request.body", req).(types.VariantValue); r.Case != 1 {
		t.Errorf("second body() = %#v, want err", r)
	}
	stream := c.ok(c.call(ht, "[method]outgoing-body.write", body))
	c.ok(writeAll(c, stream, `{"name":"x"}`))
	drop(stream)
	c.ok(c.call(ht, "[static]outgoing-body.finish", body, noneValue))

	opts := c.call(ht, "[constructor]request-options")
	c.ok(c.call(ht, "[method]request-options.set-connect-timeout", opts, someValue(uint64(5e9))))
	if got := c.call(ht, "[method]request-options.connect-timeout", opts); got != someValue(uint64(5e9)) {
		t.Errorf("connect-timeout = %#v", got)
	}

	res := c.call("wasi:http/outgoing-handler@0.2", "handle", req, someValue(opts)).(types.VariantValue)
	errCode := h.valueType(httpTypes, "error-code")
	if res.Case != 1 || errCode.Cases[res.Value.(types.VariantValue).Case].Name != "HTTP-request-denied" {
		t.Errorf("handle = %#v, want err(HTTP-request-denied)", res)
	}
	// The host owned the request, its headers and the options; all are released.
	drop(hdrs) // the guest's handle was moved into the request: a stale Close must be harmless
	st, _ := h.state(c.ctx)
	st.mu.Lock()
	open := st.handles
	st.mu.Unlock()
	if open != 0 {
		t.Errorf("%d host resources still open after the request was denied", open)
	}
}

func TestHTTPFieldsValidation(t *testing.T) {
	c := newCaller(t, New(Config{Limits: Limits{MaxFieldsBytes: 64}}))
	const ht = "wasi:http/types@0.2"
	f := c.call(ht, "[constructor]fields")
	tests := []struct {
		name, header, value string
		wantCase            string
	}{
		{"ok", "x-ok", "fine", ""},
		{"bad-name", "bad name", "v", "invalid-syntax"},
		{"empty-name", "", "v", "invalid-syntax"},
		{"crlf-value", "x-split", "a\r\nInjected: 1", "invalid-syntax"},
		{"hop-by-hop", "Transfer-Encoding", "chunked", "forbidden"},
		{"connection", "connection", "close", "forbidden"},
	}
	headerErr := []string{"invalid-syntax", "forbidden", "immutable"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call(ht, "[method]fields.append", f, tt.header, bytesValue([]byte(tt.value))).(types.VariantValue)
			got := ""
			if r.Case == 1 {
				got = headerErr[r.Value.(types.VariantValue).Case]
			}
			if got != tt.wantCase {
				t.Errorf("append(%q, %q) = %q, want %q", tt.header, tt.value, got, tt.wantCase)
			}
		})
	}
	_, err := c.try(c.ctx, ht, "[method]fields.append", f, "x-big", bytesValue([]byte(strings.Repeat("a", 100))))
	var limit *LimitError
	if !errors.As(err, &limit) || limit.Setting != "Limits.MaxFieldsBytes" {
		t.Errorf("append past MaxFieldsBytes = %v, want a *LimitError", err)
	}
}

type mapStore map[string]string

func (m mapStore) Get(_ context.Context, key string) (string, bool, error) {
	if key == "broken" {
		return "", false, errors.New("vault unreachable")
	}
	v, ok := m[key]
	return v, ok, nil
}

func (m mapStore) GetAll(context.Context) ([][2]string, error) {
	var out [][2]string
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func TestConfigStore(t *testing.T) {
	const cs = "wasi:config/store@0.2.0-draft"
	empty := newCaller(t, New(Config{}))
	if got := empty.ok(empty.call(cs, "get", "anything")); got != noneValue {
		t.Errorf("get on the default store = %#v, want ok(none)", got)
	}
	if got := empty.ok(empty.call(cs, "get-all")).([]any); len(got) != 0 {
		t.Errorf("get-all on the default store = %v, want ok([])", got)
	}

	c := newCaller(t, New(Config{Store: mapStore{"region": "eu"}}))
	tests := []struct {
		key  string
		want types.VariantValue
	}{
		{"region", okValue(someValue("eu"))},
		{"missing", okValue(noneValue)},
		{"broken", errValue(types.VariantValue{Case: 0, Value: "vault unreachable"})},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := c.call(cs, "get", tt.key); got != tt.want {
				t.Errorf("get(%q) = %#v, want %#v", tt.key, got, tt.want)
			}
		})
	}
	if all := c.ok(c.call(cs, "get-all")).([]any); len(all) != 1 {
		t.Errorf("get-all = %v", all)
	}
}

func TestRandom(t *testing.T) {
	c := newCaller(t, New(Config{Limits: Limits{MaxRandomBytes: 64}}))
	tests := []struct {
		iface, fn string
	}{
		{"wasi:random/random@0.2", "get-random-bytes"},
		{"wasi:random/insecure@0.2", "get-insecure-random-bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			for _, n := range []uint64{0, 1, 13, 64} {
				if got := c.call(tt.iface, tt.fn, n).([]any); uint64(len(got)) != n {
					t.Errorf("%s(%d) returned %d bytes", tt.fn, n, len(got))
				}
			}
			a, _ := bytesArg(c.call(tt.iface, tt.fn, uint64(32)), "test")
			b, _ := bytesArg(c.call(tt.iface, tt.fn, uint64(32)), "test")
			if string(a) == string(b) {
				t.Errorf("two calls of %s returned the same 32 bytes", tt.fn)
			}
			_, err := c.try(c.ctx, tt.iface, tt.fn, uint64(65))
			var limit *LimitError
			if !errors.As(err, &limit) || limit.Setting != "Limits.MaxRandomBytes" || !strings.Contains(err.Error(), "65") {
				t.Errorf("%s(65) = %v, want a *LimitError naming the request and MaxRandomBytes", tt.fn, err)
			}
		})
	}
	if c.call("wasi:random/random@0.2", "get-random-u64") == c.call("wasi:random/random@0.2", "get-random-u64") {
		t.Error("get-random-u64 returned the same value twice")
	}
	seed := c.call("wasi:random/insecure-seed@0.2", "insecure-seed").([]any)
	if len(seed) != 2 {
		t.Errorf("insecure-seed = %v", seed)
	}
	c.call("wasi:random/insecure@0.2", "get-insecure-random-u64")
}

func TestClocks(t *testing.T) {
	c := newCaller(t, New(Config{}))
	a := c.call(monoIface, "now").(uint64)
	b := c.call(monoIface, "now").(uint64)
	if b < a {
		t.Errorf("monotonic clock went back: %d then %d", a, b)
	}
	if r := c.call(monoIface, "resolution").(uint64); r == 0 {
		t.Error("monotonic resolution is 0")
	}
	now := c.call("wasi:clocks/wall-clock@0.2", "now").([]any)
	if now[0].(uint64) < 1_700_000_000 || now[1].(uint32) >= 1e9 {
		t.Errorf("wall-clock now = %v", now)
	}
	c.call("wasi:clocks/wall-clock@0.2", "resolution")
}
