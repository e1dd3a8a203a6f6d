package wasi

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// TestFunctionSetsMatchUpstream compares every served interface's function
// names with testdata/wit-functions.txt, a list taken from the upstream WIT
// by a scan that does not use internal/wit.
func TestFunctionSetsMatchUpstream(t *testing.T) {
	f, err := os.Open("testdata/wit-functions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]string{} // "wasi:io/streams" → function names
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		iface, fn, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		want[iface] = append(want[iface], fn)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	got := map[string][]string{}
	for _, hi := range New(Config{}).Interfaces() {
		base, _, _ := strings.Cut(hi.Name, "@")
		names := []string{}
		for n := range hi.Funcs {
			names = append(names, n)
		}
		got[base] = names
	}
	// Interfaces with no functions (terminal-input, terminal-output) define
	// only a resource; the scan lists functions, so they are not in it.
	for _, resourceOnly := range []string{"wasi:cli/terminal-input", "wasi:cli/terminal-output"} {
		if len(got[resourceOnly]) != 0 {
			t.Errorf("%s has functions %v, want none", resourceOnly, got[resourceOnly])
		}
		delete(got, resourceOnly)
	}
	for iface := range want {
		if _, ok := got[iface]; !ok {
			t.Errorf("interface %s is not served", iface)
		}
	}
	for iface, names := range got {
		sort.Strings(names)
		w := want[iface]
		sort.Strings(w)
		if strings.Join(names, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s serves\n  %v\nupstream declares\n  %v", iface, names, w)
		}
	}
}

// TestBriefInterfacesServed checks the list of interfaces a WASI 0.2
// toolchain imports is served, under registry names any 0.2.x import finds.
func TestBriefInterfacesServed(t *testing.T) {
	reg := component.NewRegistry()
	New(Config{}).Register(reg)
	for _, name := range []string{
		"wasi:io/error@0.2.0", "wasi:io/poll@0.2.3", "wasi:io/streams@0.2.6",
		"wasi:clocks/wall-clock@0.2.0", "wasi:clocks/monotonic-clock@0.2.3",
		"wasi:random/random@0.2.0", "wasi:random/insecure@0.2.0", "wasi:random/insecure-seed@0.2.0",
		"wasi:cli/environment@0.2.0", "wasi:cli/exit@0.2.0", "wasi:cli/stdin@0.2.0",
		"wasi:cli/stdout@0.2.0", "wasi:cli/stderr@0.2.0", "wasi:cli/terminal-input@0.2.0",
		"wasi:cli/terminal-output@0.2.0", "wasi:cli/terminal-stdin@0.2.0",
		"wasi:cli/terminal-stdout@0.2.0", "wasi:cli/terminal-stderr@0.2.0",
		"wasi:filesystem/types@0.2.0", "wasi:filesystem/preopens@0.2.0",
		"wasi:sockets/network@0.2.0", "wasi:sockets/instance-network@0.2.0",
		"wasi:sockets/tcp@0.2.0", "wasi:sockets/tcp-create-socket@0.2.0",
		"wasi:sockets/udp@0.2.0", "wasi:sockets/udp-create-socket@0.2.0",
		"wasi:sockets/ip-name-lookup@0.2.0", "wasi:http/types@0.2.0",
		"wasi:http/outgoing-handler@0.2.4", "wasi:config/store@0.2.0-draft",
	} {
		t.Run(strings.NewReplacer(":", "_", "/", "_", "@", "_").Replace(name), func(t *testing.T) {
			if reg.Lookup(name) == nil {
				t.Errorf("nothing serves %s", name)
			}
		})
	}
}

// TestTrickyTypes checks some types by hand against the WIT specification.
func TestTrickyTypes(t *testing.T) {
	h := New(Config{})
	streamsIface := h.defs["wasi:io/streams"]
	outputStream := streamsIface.Resources["output-stream"]
	inputStream := streamsIface.Resources["input-stream"]
	ioErr := h.defs["wasi:io/error"].Resources["error"]
	streamError := types.VariantOf(types.Case{Name: "last-operation-failed", Type: types.OwnOf(ioErr)}, types.Case{Name: "closed"})

	tests := []struct {
		name, iface, fn string
		want            *types.Func
		wantText        string
	}{
		{
			name: "output-stream.write", iface: "wasi:io/streams@0.2", fn: "[method]output-stream.write",
			want: &types.Func{
				Params:  []types.Param{{Name: "self", Type: types.BorrowOf(outputStream)}, {Name: "contents", Type: types.ListOf(types.U8Type)}},
				Results: []types.Param{{Type: types.ResultOf(nil, streamError)}},
			},
			wantText: "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>",
		},
		{
			name: "output-stream.splice", iface: "wasi:io/streams@0.2", fn: "[method]output-stream.splice",
			want: &types.Func{
				Params:  []types.Param{{Name: "self", Type: types.BorrowOf(outputStream)}, {Name: "src", Type: types.BorrowOf(inputStream)}, {Name: "len", Type: types.U64Type}},
				Results: []types.Param{{Type: types.ResultOf(types.U64Type, streamError)}},
			},
		},
		{
			name: "poll", iface: "wasi:io/poll@0.2", fn: "poll",
			want: &types.Func{
				Params:  []types.Param{{Name: "in", Type: types.ListOf(types.BorrowOf(h.pollableRes))}},
				Results: []types.Param{{Type: types.ListOf(types.U32Type)}},
			},
		},
		{
			name: "wall-clock.now", iface: "wasi:clocks/wall-clock@0.2", fn: "now",
			want: &types.Func{Results: []types.Param{{Type: types.RecordOf(
				types.Field{Name: "seconds", Type: types.U64Type}, types.Field{Name: "nanoseconds", Type: types.U32Type})}}},
		},
		{
			name: "exit", iface: "wasi:cli/exit@0.2", fn: "exit",
			want: &types.Func{Params: []types.Param{{Name: "status", Type: types.ResultOf(nil, nil)}}},
		},
		{
			name: "fields.from-list", iface: "wasi:http/types@0.2", fn: "[static]fields.from-list",
			want: &types.Func{
				Params: []types.Param{{Name: "entries", Type: types.ListOf(types.TupleOf(types.StringType, types.ListOf(types.U8Type)))}},
				Results: []types.Param{{Type: types.ResultOf(types.OwnOf(h.fieldsRes),
					types.VariantOf(types.Case{Name: "invalid-syntax"}, types.Case{Name: "forbidden"}, types.Case{Name: "immutable"}))}},
			},
		},
		{
			name: "outgoing-request.constructor", iface: "wasi:http/types@0.2", fn: "[constructor]outgoing-request",
			want: &types.Func{
				Params:  []types.Param{{Name: "headers", Type: types.OwnOf(h.fieldsRes)}},
				Results: []types.Param{{Type: types.OwnOf(h.outgoingRequestRes)}},
			},
		},
		{
			name: "future-trailers.get", iface: "wasi:http/types@0.2", fn: "[method]future-trailers.get",
			wantText: "func(self: borrow<future-trailers>) -> option<result<result<option<own<fields>>, error-code>, _>>",
		},
		{
			name: "descriptor.open-at", iface: "wasi:filesystem/types@0.2", fn: "[method]descriptor.open-at",
			wantText: "func(self: borrow<descriptor>, path-flags: path-flags, path: string, open-flags: open-flags, flags: descriptor-flags) -> result<own<descriptor>, error-code>",
		},
		{
			name: "tcp-socket.accept", iface: "wasi:sockets/tcp@0.2", fn: "[method]tcp-socket.accept",
			wantText: "func(self: borrow<tcp-socket>) -> result<tuple<own<tcp-socket>, own<input-stream>, own<output-stream>>, error-code>",
		},
		{
			name: "config.get", iface: "wasi:config/store@0.2.0-draft", fn: "get",
			wantText: "func(key: string) -> result<option<string>, error>",
		},
	}
	c := newCaller(t, h)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := c.fns[tt.iface+"#"+tt.fn]
			if !ok {
				t.Fatalf("no %s#%s", tt.iface, tt.fn)
			}
			if tt.want != nil && !types.EqualFunc(f.Type, tt.want) {
				t.Errorf("type\n  %s\nwant\n  %s", f.Type, tt.want)
			}
			if tt.wantText != "" && f.Type.String() != tt.wantText {
				t.Errorf("type\n  %s\nwant\n  %s", f.Type, tt.wantText)
			}
		})
	}
}

// TestSharedResources checks that a resource is one *types.Resource in
// every interface that uses it: the linker compares them by pointer.
func TestSharedResources(t *testing.T) {
	h := New(Config{})
	byName := map[string]*component.HostInterface{}
	for _, hi := range h.Interfaces() {
		byName[hi.Name] = hi
	}
	resultOwn := func(iface, fn string) *types.Resource {
		ft := byName[iface].Funcs[fn].Type
		rt := ft.Results[0].Type
		for rt.Kind == types.Result || rt.Kind == types.Option {
			if rt.Kind == types.Option {
				rt = rt.Elem
			} else {
				rt = rt.OK
			}
		}
		return rt.Resource
	}
	tests := []struct {
		name string
		got  *types.Resource
		want *types.Resource
	}{
		{"streams-subscribe", resultOwn("wasi:io/streams@0.2", "[method]input-stream.subscribe"), h.pollableRes},
		{"clock-subscribe", resultOwn("wasi:clocks/monotonic-clock@0.2", "subscribe-duration"), h.pollableRes},
		{"http-future-subscribe", resultOwn("wasi:http/types@0.2", "[method]future-incoming-response.subscribe"), h.pollableRes},
		{"tcp-subscribe", resultOwn("wasi:sockets/tcp@0.2", "[method]tcp-socket.subscribe"), h.pollableRes},
		{"stdin", resultOwn("wasi:cli/stdin@0.2", "get-stdin"), h.inputStreamRes},
		{"stdout", resultOwn("wasi:cli/stdout@0.2", "get-stdout"), h.outputStreamRes},
		{"file-read-stream", resultOwn("wasi:filesystem/types@0.2", "[method]descriptor.read-via-stream"), h.inputStreamRes},
		{"http-body-write", resultOwn("wasi:http/types@0.2", "[method]outgoing-body.write"), h.outputStreamRes},
		{"instance-network", resultOwn("wasi:sockets/instance-network@0.2", "instance-network"), h.networkRes},
		{"terminal-stdout", resultOwn("wasi:cli/terminal-stdout@0.2", "get-terminal-stdout"), byName["wasi:cli/terminal-output@0.2"].Resources["terminal-output"]},
		{"defined-once", byName["wasi:io/poll@0.2"].Resources["pollable"], h.pollableRes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == nil || tt.got != tt.want {
				t.Errorf("resource %p (%v), want %p (%v)", tt.got, tt.got, tt.want, tt.want)
			}
		})
	}
	// A HostInterface lists only the resources it defines.
	if r := byName["wasi:io/streams@0.2"].Resources["pollable"]; r != nil {
		t.Errorf("wasi:io/streams lists pollable, which wasi:io/poll defines")
	}
	if New(Config{}).pollableRes != h.pollableRes {
		t.Errorf("two Hosts have different pollable resource types")
	}
}
