package wit

import (
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

const ioPkg = `
// a line comment
package test:io@0.2.3;

/* a block
   comment */
interface poll {
    @since(version = 0.2.0)
    resource pollable {
        ready: func() -> bool;
        block: func();
    }
    poll: func(in: list<borrow<pollable>>) -> list<u32>;
}

interface streams {
    use poll.{pollable};
    use error.{error as io-error};

    /// doc comment
    variant stream-error {
        last-operation-failed(io-error),
        closed,
    }
    resource output-stream {
        write: func(contents: list<u8>) -> result<_, stream-error>;
        subscribe: func() -> pollable;
        splice: func(src: borrow<output-stream>, len: size) -> result<size, stream-error>;
    }
    type size = u64;
}

interface error {
    resource error {
        to-debug-string: func() -> string;
    }
}
`

const httpPkg = `
package test:http@0.2.3;

interface types {
    use test:io/streams@0.2.3.{output-stream, stream-error};
    use test:io/poll@0.2.3.{pollable};
    type field-name = field-key;
    @deprecated(version = 0.2.2)
    type field-key = string;
    type headers = fields;
    resource fields {
        constructor();
        from-list: static func(entries: list<tuple<field-name, list<u8>>>) -> result<fields>;
        clone: func() -> headers;
        %stream: func() -> result<output-stream>;
    }
    record point { x: s32, %type: option<string> }
    enum color { red, green }
    flags perms { read, write }
    get: func(h: borrow<headers>) -> tuple<point, color, perms>;
}

world proxy {
    import types;
    export handler: interface { handle: func(); }
}
`

func load(t *testing.T, files map[string]string) map[string]*Interface {
	t.Helper()
	ifaces, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	return ifaces
}

func TestLoadResolvesAcrossInterfaces(t *testing.T) {
	ifaces := load(t, map[string]string{"io.wit": ioPkg, "http.wit": httpPkg})
	poll, streams, errIface, types_ := ifaces["test:io/poll"], ifaces["test:io/streams"], ifaces["test:io/error"], ifaces["test:http/types"]
	if poll == nil || streams == nil || errIface == nil || types_ == nil {
		t.Fatalf("interfaces loaded: %v", ifaces)
	}
	pollable := poll.Resources["pollable"]
	tests := []struct {
		name string
		got  *types.Resource
		want *types.Resource
	}{
		{"use-in-package", streams.Resources["pollable"], pollable},
		{"use-across-packages", types_.Resources["pollable"], pollable},
		{"use-as", streams.Resources["io-error"], errIface.Resources["error"]},
		{"alias-of-resource", types_.Resources["headers"], types_.Resources["fields"]},
		{"method-result", streams.Funcs["[method]output-stream.subscribe"].Results[0].Type.Resource, pollable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == nil || tt.got != tt.want {
				t.Errorf("got %p (%v), want %p (%v)", tt.got, tt.got, tt.want, tt.want)
			}
		})
	}
	if pollable.Name != "pollable" || pollable.Interface != "test:io/poll@0.2.3" {
		t.Errorf("pollable = %+v", pollable)
	}
	// A used variant is the same *types.Type, not a copy.
	if streams.Types["stream-error"] != types_.Types["stream-error"] {
		t.Error("stream-error used from another package is a different *types.Type")
	}
}

func TestLoadFunctionTypes(t *testing.T) {
	ifaces := load(t, map[string]string{"io.wit": ioPkg, "http.wit": httpPkg})
	tests := []struct {
		iface, fn, want string
	}{
		{"test:io/poll", "poll", "func(in: list<borrow<pollable>>) -> list<u32>"},
		{"test:io/poll", "[method]pollable.block", "func(self: borrow<pollable>)"},
		{"test:io/poll", "[method]pollable.ready", "func(self: borrow<pollable>) -> bool"},
		{"test:io/streams", "[method]output-stream.write", "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>"},
		{"test:io/streams", "[method]output-stream.splice", "func(self: borrow<output-stream>, src: borrow<output-stream>, len: u64) -> result<u64, stream-error>"},
		{"test:io/error", "[method]error.to-debug-string", "func(self: borrow<error>) -> string"},
		{"test:http/types", "[constructor]fields", "func() -> own<fields>"},
		{"test:http/types", "[static]fields.from-list", "func(entries: list<tuple<string, list<u8>>>) -> result<own<fields>, _>"},
		{"test:http/types", "[method]fields.clone", "func(self: borrow<fields>) -> own<fields>"},
		{"test:http/types", "[method]fields.stream", "func(self: borrow<fields>) -> result<own<output-stream>, _>"},
		{"test:http/types", "get", "func(h: borrow<fields>) -> tuple<point, color, perms>"},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer("[", "", "]", "-").Replace(tt.fn), func(t *testing.T) {
			f := ifaces[tt.iface].Funcs[tt.fn]
			if f == nil {
				t.Fatalf("%s has no %s; it has %v", tt.iface, tt.fn, ifaces[tt.iface].FuncNames())
			}
			if got := f.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	point := ifaces["test:http/types"].Types["point"]
	want := types.RecordOf(types.Field{Name: "x", Type: types.S32Type}, types.Field{Name: "type", Type: types.OptionOf(types.StringType)})
	if !types.Equal(point, want) || point.Name != "point" {
		t.Errorf("point = %s %+v", point, point)
	}
	if perms := ifaces["test:http/types"].Types["perms"]; perms.Kind != types.Flags || len(perms.Labels) != 2 {
		t.Errorf("perms = %+v", perms)
	}
	if ifaces["test:http/handler"] != nil {
		t.Error("an interface inside a world was loaded")
	}
}

func TestLoadErrors(t *testing.T) {
	const pkg = "package t:p@0.1.0;\n"
	tests := []struct {
		name, src, want string
	}{
		{"no-package", "interface i {}", `expected "package"`},
		{"no-version", "package t:p; interface i {}", "needs a version"},
		{"unknown-type", pkg + "interface i { f: func(x: nope); }", "unknown type nope"},
		{"unknown-interface", pkg + "interface i { use other.{x}; }", "unknown interface t:p/other"},
		{"cycle", pkg + "interface i { type a = b; type b = a; }", "refers to itself"},
		{"duplicate-type", pkg + "interface i { type a = u8; type a = u8; }", "declared twice"},
		{"duplicate-func", pkg + "interface i { f: func(); f: func(); }", "declared twice"},
		{"duplicate-param", pkg + "interface i { f: func(a: u8, a: u8); }", "declared twice"},
		{"duplicate-case", pkg + "interface i { enum e { a, a } }", "appears twice"},
		{"borrow-non-resource", pkg + "interface i { f: func(x: borrow<u8>); }", "not a resource"},
		{"list-arity", pkg + "interface i { f: func(x: list<u8, u8>); }", "takes 1 type argument"},
		{"underscore", pkg + "interface i { f: func(x: list<_>); }", "_ stands only"},
		{"named-results", pkg + "interface i { f: func() -> (a: u8); }", "named results"},
		{"bad-name", pkg + "interface i { Mixed-case: func(); }", "mixes upper and lower"},
		{"unterminated-comment", pkg + "/* open", "unterminated block comment"},
		{"unclosed-interface", pkg + "interface i { f: func();", "not closed"},
		{"bad-char", pkg + "interface i { f: func() -> u8!; }", "unexpected character"},
		{"too-many-flags", pkg + "interface i { flags f { " + flagLabels(33) + " } }", "allows 32"},
		{"deep-nesting", pkg + "interface i { f: func(x: " + strings.Repeat("list<", 70) + "u8" + strings.Repeat(">", 70) + "); }", "nested deeper"},
		{"static-outside-resource", pkg + "interface i { f: static func(); }", "outside a resource"},
		{"empty-enum", pkg + "interface i { enum e {} }", "is empty"},
		{"duplicate-interface", pkg + "interface i {} interface i {}", "defined twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(map[string]string{"t.wit": tt.src})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func flagLabels(n int) string {
	labels := make([]string, n)
	for i := range labels {
		labels[i] = "f" + strings.Repeat("a", i+1)
	}
	return strings.Join(labels, ", ")
}

func FuzzLoad(f *testing.F) {
	f.Add(ioPkg)
	f.Add(httpPkg)
	f.Fuzz(func(t *testing.T, src string) {
		ifaces, err := Load(map[string]string{"fuzz.wit": src})
		if err != nil {
			return
		}
		for _, i := range ifaces {
			for _, n := range i.FuncNames() {
				_ = i.Funcs[n].String()
			}
		}
	})
}
