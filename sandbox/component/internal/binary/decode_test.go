package binary

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Helpers that assemble binaries byte by byte, for what the text format
// cannot express (malformed encodings).

func leb(n uint64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func str(s string) []byte { return append(leb(uint64(len(s))), s...) }

func section(id byte, body ...[]byte) []byte {
	var b []byte
	for _, p := range body {
		b = append(b, p...)
	}
	return append(append([]byte{id}, leb(uint64(len(b)))...), b...)
}

var preamble = []byte("\x00asm\x0d\x00\x01\x00")

func component(sections ...[]byte) []byte {
	b := append([]byte(nil), preamble...)
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// decodeFixture decodes testdata/valid/NAME.wasm.
func decodeFixture(t *testing.T, name string) *Component {
	t.Helper()
	c, err := Decode(readFixture(t, filepath.Join("testdata", "valid", name+".wat")))
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return c
}

func TestDecodeMalformed(t *testing.T) {
	// A core module: magic, version 1 (layer 0), an empty type section.
	coreModule := []byte("\x00asm\x01\x00\x00\x00\x01\x01\x00")
	tests := []struct {
		name string
		in   []byte
		want string
		is   error
	}{
		{"empty", nil, "component: at byte offset 0x0: too short to be a component (0 bytes; a component starts with 8 bytes \\0asm 0d 00 01 00)", nil},
		{"wrong-magic", []byte("\x00ASM\x0d\x00\x01\x00"), "component: at byte offset 0x0: not a WebAssembly binary: it starts with 00 41 53 4d, not the magic 00 61 73 6d (\\0asm)", nil},
		{"wrong-version", []byte("\x00asm\x0c\x00\x01\x00"), "component: at byte offset 0x4: component binary version 0xc; Tapedeck reads version 0x0d (the Component Model as of WASI 0.2)", nil},
		{"wrong-layer", []byte("\x00asm\x0d\x00\x02\x00"), "component: at byte offset 0x6: unknown binary layer 2 (a component has layer 1)", nil},
		{"core-module", coreModule, "component: at byte offset 0x4: this is a core WebAssembly module, not a component: its header has layer 0 (version 1); wrap it into a component first, for example with `jco new` or `wasm-tools component new`", ErrCoreModule},
		{"section-size-past-end", component([]byte{secType, 0x10, 0x00}), "component: at byte offset 0xa: length 16 exceeds the 1 bytes left", nil},
		{"huge-count", component(section(secType, leb(0xffffffff))), "component: at byte offset 0xa: type count 4294967295 exceeds the 0 bytes left", nil},
		{"huge-import-count", component(section(secImport, leb(1<<28), []byte{0, 0, 0})), "component: at byte offset 0xa: import count 268435456 exceeds the 3 bytes left", nil},
		{"leb-overflow", component([]byte{secType, 0xff, 0xff, 0xff, 0xff, 0x7f}), "component: at byte offset 0x9: integer too large for u32 (LEB128 overflow)", nil},
		{"leb-too-long", component([]byte{secType, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), "component: at byte offset 0x9: integer too large for u32 (LEB128 overflow)", nil},
		{"unknown-section", component(section(13)), "component: at byte offset 0x8: unknown section id 13 (not supported by Tapedeck, which runs WASI 0.2 components)", ErrUnsupported},
		{"value-section", component(section(secValue, leb(0))), "component: at byte offset 0x8: value section (id 12; value definitions are a gated 🪙 feature) (not supported by Tapedeck, which runs WASI 0.2 components)", ErrUnsupported},
		{"bad-utf8-name", component(section(secImport, leb(1), []byte{0}, str("\xff"), []byte{0x01, 0x00})), "component: at byte offset 0xc: name is not valid UTF-8", nil},
		{"section-left-over", component(section(secType, leb(1), []byte{0x73, 0x73})), "component: at byte offset 0xc: section id 7 has 1 bytes left over after its contents", nil},
		{"type-index-in-valtype-too-long", component(section(secType, leb(1), []byte{0x70, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})), "component: at byte offset 0xc: malformed type index in a value type", nil},
		{"type-index-in-valtype-huge", component(section(secType, leb(1), []byte{0x70, 0xff, 0xff, 0xff, 0xff, 0x0f})), "component: at byte offset 0xc: type index 4294967295 out of range (0 defined so far)", nil},
		{"core-module-bad-magic", component(section(secCoreModule, []byte("\x00asx\x01\x00\x00\x00"))), "component: at byte offset 0xa: core module does not start with the magic \\0asm", nil},
		{"core-module-huge-func-count", component(section(secCoreModule, []byte("\x00asm\x01\x00\x00\x00"), section(coreSecFunction, leb(1<<30)))),
			"component: at byte offset 0x14: core function count 1073741824 exceeds the 0 bytes left", nil},
		{"core-module-export-out-of-range", component(section(secCoreModule, []byte("\x00asm\x01\x00\x00\x00"), section(coreSecExport, leb(1), str("f"), []byte{0, 0}))),
			"component: at byte offset 0x17: core export \"f\": func index 0 out of range (the module has 0)", nil},
		{"core-module-duplicate-section", component(section(secCoreModule, []byte("\x00asm\x01\x00\x00\x00"), section(coreSecType, leb(0)), section(coreSecType, leb(0)))),
			"component: at byte offset 0x15: duplicate core module section id 1", nil},
		{"nested-component-bad-version", component(section(secComponent, []byte("\x00asm\x0e\x00\x01\x00"))),
			"component: at byte offset 0xe: component binary version 0xe; Tapedeck reads version 0x0d (the Component Model as of WASI 0.2)", nil},
		{"name-attributes", component(section(secImport, leb(1), []byte{0x02}, str("a"), leb(0), []byte{0x01, 0x00})),
			"component: at byte offset 0xb: import or export name with attributes (0x02; implements/versionsuffix are gated features) (not supported by Tapedeck, which runs WASI 0.2 components)", ErrUnsupported},
		{"start-func-out-of-range", component(section(secStart, leb(0))), "component: at byte offset 0xa: func index 0 out of range (0 defined so far)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode succeeded (%d definitions); want %q", len(c.Defs), tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Decode error:\n got: %s\nwant: %s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is %T, not *Error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// sectionEnds returns the offsets where the top-level sections of a
// component end: the prefixes that are themselves valid components.
func sectionEnds(t *testing.T, b []byte) map[int]bool {
	t.Helper()
	ends := map[int]bool{8: true}
	r := newReader(b, 0)
	r.pos = 8
	for !r.done() {
		r.byte()
		r.bytes(r.u32())
		ends[r.pos] = true
	}
	return ends
}

// TestDecodeTruncated decodes every prefix of small fixtures: a prefix that
// ends between sections is a valid component; every other one must fail
// with an *Error, never panic or succeed.
func TestDecodeTruncated(t *testing.T) {
	for _, wat := range fixtures(t, "valid") {
		name := strings.TrimSuffix(filepath.Base(wat), ".wat")
		t.Run(name, func(t *testing.T) {
			full := readFixture(t, wat)
			ends := sectionEnds(t, full)
			for n := range len(full) {
				_, err := Decode(full[:n])
				if ends[n] {
					// A component whose later sections are cut off may still
					// be valid, or miss what a later definition needed.
					continue
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Decode of the first %d of %d bytes: error %v, want an *Error", n, len(full), err)
				}
				if e.Offset < 0 || e.Offset > int64(n) {
					t.Fatalf("Decode of the first %d bytes: offset %#x is outside the input", n, e.Offset)
				}
			}
		})
	}
}

// TestDecodeIsCopyFree checks that core module bytes are slices of the input.
func TestDecodeIsCopyFree(t *testing.T) {
	b := readFixture(t, filepath.Join("testdata", "valid", "lift-lower.wat"))
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var modules int
	for _, d := range c.Defs {
		if m, ok := d.(*CoreModule); ok {
			modules++
			if &b[m.Offset] != &m.Bytes[0] {
				t.Errorf("core module %d: Bytes is not a slice of the input at its Offset %#x", m.Index, m.Offset)
			}
			if string(m.Bytes[:4]) != "\x00asm" {
				t.Errorf("core module %d: Bytes starts with % x, want the core magic", m.Index, m.Bytes[:4])
			}
		}
	}
	if modules != 2 {
		t.Errorf("found %d core modules, want 2", modules)
	}
}

func TestLiftLower(t *testing.T) {
	c := decodeFixture(t, "lift-lower")
	if c.Name != "lift-lower" {
		t.Errorf("Name = %q, want %q (from the component-name section)", c.Name, "lift-lower")
	}
	var lifts, lowers []*Canon
	for _, d := range c.Defs {
		if cn, ok := d.(*Canon); ok {
			switch cn.Kind {
			case CanonLift:
				lifts = append(lifts, cn)
			case CanonLower:
				lowers = append(lowers, cn)
			}
		}
	}
	if len(lifts) != 2 || len(lowers) != 2 {
		t.Fatalf("found %d lifts and %d lowers, want 2 and 2", len(lifts), len(lowers))
	}
	i32 := api.ValueTypeI32
	tests := []struct {
		name     string
		got      *Canon
		wantType string
		wantCore FuncType
		wantOpts CanonOptions
	}{
		{"lower-log", lowers[0], "func(msg: string)", FuncType{Params: []api.ValueType{i32, i32}},
			CanonOptions{HasMemory: true}},
		{"lower-read", lowers[1], "func() -> string", FuncType{Params: []api.ValueType{i32}},
			CanonOptions{HasMemory: true, Realloc: 3, HasRealloc: true}},
		{"lift-shout", lifts[0], "func(s: string) -> string", FuncType{Params: []api.ValueType{i32, i32}, Results: []api.ValueType{i32}},
			CanonOptions{HasMemory: true, Realloc: 6, HasRealloc: true, PostReturn: 7, HasPostReturn: true}},
		{"lift-add", lifts[1], "func(a: u32, b: u32) -> u32", FuncType{Params: []api.ValueType{i32, i32}, Results: []api.ValueType{i32}},
			CanonOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.Type.String(); got != tt.wantType {
				t.Errorf("Type = %s, want %s", got, tt.wantType)
			}
			if !tt.got.CoreType.Equal(tt.wantCore) {
				t.Errorf("CoreType = %s, want %s", tt.got.CoreType, tt.wantCore)
			}
			if tt.got.Options != tt.wantOpts {
				t.Errorf("Options = %+v, want %+v", tt.got.Options, tt.wantOpts)
			}
		})
	}
	if lowers[0].Func != 0 || lowers[1].Func != 1 {
		t.Errorf("lowered funcs %d and %d, want 0 and 1", lowers[0].Func, lowers[1].Func)
	}
	// The two imports are component funcs 0 and 1; the lifts come next.
	if lifts[0].Index != 2 || lifts[1].Index != 3 {
		t.Errorf("lifts define component funcs %d and %d, want 2 and 3", lifts[0].Index, lifts[1].Index)
	}
	// Core funcs 5 and 8 are the aliases of the module's "shout" and "add".
	if lifts[0].CoreFunc != 5 || lifts[1].CoreFunc != 8 {
		t.Errorf("lifts wrap core funcs %d and %d, want 5 and 8", lifts[0].CoreFunc, lifts[1].CoreFunc)
	}
}

func TestImportedResources(t *testing.T) {
	c := decodeFixture(t, "imported-resources")
	imps := c.Imports()
	if len(imps) != 4 {
		t.Fatalf("%d imports, want 4", len(imps))
	}
	resource := func(inst ExternType, name string) *types.Resource {
		t.Helper()
		e, ok := inst.Instance.Export(name)
		if !ok || e.Kind != KindType || e.Resource == nil {
			t.Fatalf("export %q is %+v, want a resource type", name, e)
		}
		return e.Resource
	}
	a, b := imps[0].Type, imps[1].Type
	aStream, bStream := resource(a, "output-stream"), resource(b, "output-stream")
	if aStream == bStream {
		t.Errorf("two imports of one instance type share a resource; each must get a fresh one")
	}
	if *aStream != (types.Resource{Name: "output-stream", Interface: "wasi:io/streams@0.2.3"}) {
		t.Errorf("resource = %+v, want output-stream of wasi:io/streams@0.2.3", *aStream)
	}
	if got := resource(a, "alias-stream"); got != aStream {
		t.Errorf("an (eq) bound made a different resource %p, want the same pointer %p", got, aStream)
	}
	write, _ := a.Instance.Export("[method]output-stream.write")
	if write.Func.Params[0].Type.Resource != aStream {
		t.Errorf("[method]output-stream.write takes a borrow of %p, want the instance's own resource %p", write.Func.Params[0].Type.Resource, aStream)
	}
	bWrite, _ := b.Instance.Export("[method]output-stream.write")
	if bWrite.Func.Params[0].Type.Resource != bStream {
		t.Errorf("the second import's method refers to the first import's resource")
	}
	if got := imps[2].Type.Resource; got != aStream {
		t.Errorf("import own-stream (eq of the aliased output-stream) = %p, want %p", got, aStream)
	}
	if got := imps[3].Type.Resource; got == nil || got.Name != "plain" || got.Interface != "" {
		t.Errorf("import plain = %+v, want a fresh resource named plain", got)
	}
}

func TestDefinedResources(t *testing.T) {
	c := decodeFixture(t, "resources")
	var def *TypeDef
	var canons []*Canon
	for _, d := range c.Defs {
		switch d := d.(type) {
		case *TypeDef:
			if def == nil && d.Type.Resource != nil {
				def = d
			}
		case *Canon:
			if d.Resource != nil {
				canons = append(canons, d)
			}
		}
	}
	if def == nil || !def.HasDtor || def.Dtor != 0 {
		t.Fatalf("resource definition %+v, want one with destructor core func 0", def)
	}
	res := def.Type.Resource
	if res.Name != "counter" {
		t.Errorf("resource name %q, want counter (from its export)", res.Name)
	}
	wantKinds := []CanonKind{CanonResourceNew, CanonResourceRep, CanonResourceDrop}
	if len(canons) != len(wantKinds) {
		t.Fatalf("%d resource built-ins, want %d", len(canons), len(wantKinds))
	}
	for i, cn := range canons {
		if cn.Kind != wantKinds[i] || cn.Resource != res {
			t.Errorf("built-in %d is %s of %p, want %s of %p", i, cn.Kind, cn.Resource, wantKinds[i], res)
		}
	}
	ctor, ok := findExtern(c.Exports(), "[constructor]counter")
	if !ok || ctor.Func.Results[0].Type.Resource != res {
		t.Errorf("[constructor]counter = %+v, want a func returning own<counter>", ctor)
	}
}

func TestNestedReexport(t *testing.T) {
	c := decodeFixture(t, "nested")
	var res *types.Resource
	var point *types.Type
	var inst *Instance
	for _, d := range c.Defs {
		switch d := d.(type) {
		case *TypeDef:
			if d.Type.Resource != nil {
				res = d.Type.Resource
			} else if d.Type.Type != nil && d.Type.Type.Kind == types.Record {
				point = d.Type.Type
			}
		case *Instance:
			inst = d
		}
	}
	if inst == nil || inst.Instantiate == nil || len(inst.Instantiate.Args) != 4 {
		t.Fatalf("instance definition %+v, want an instantiation with 4 args", inst)
	}
	exp := c.Exports()
	if len(exp) != 1 || exp[0].Name != "tapedeck:test/things@0.1.0" || exp[0].Type.Kind != KindInstance {
		t.Fatalf("exports %+v, want one instance", exp)
	}
	it := exp[0].Type.Instance
	thing, _ := it.Export("thing")
	if thing.Resource != res {
		t.Errorf("exported thing is resource %p, want the outer component's resource %p", thing.Resource, res)
	}
	if res.Name != "thing" {
		t.Errorf("outer resource named %q, want thing (the name the instance exports it under)", res.Name)
	}
	make, _ := it.Export("make")
	if got := make.Func.Results[0].Type.Resource; got != res {
		t.Errorf("make returns own of %p, want %p", got, res)
	}
	x, _ := it.Export("x")
	pt := x.Func.Params[0].Type
	if !types.Equal(pt, point) || pt.Name != "point" {
		t.Errorf("x takes %s (name %q), want the point record named point", pt, pt.Name)
	}
	if point.Name != "" {
		t.Errorf("the outer record's own *Type was renamed to %q; names go on copies", point.Name)
	}
}

func TestCoreModuleReader(t *testing.T) {
	c := decodeFixture(t, "lift-lower")
	var m *Module
	for _, d := range c.Defs {
		if cm, ok := d.(*CoreModule); ok {
			m = cm.Module
			break
		}
	}
	wantImports := []struct {
		module, name string
		params       int
	}{{"host", "log", 2}, {"host", "read", 1}}
	for i, w := range wantImports {
		imp := m.Imports[i]
		if imp.Module != w.module || imp.Name != w.name || imp.Type.Kind != CoreFunc || len(imp.Type.Func.Params) != w.params {
			t.Errorf("import %d = %+v, want %s.%s with %d params", i, imp, w.module, w.name, w.params)
		}
	}
	wantExports := []struct {
		name  string
		kind  CoreKind
		index uint32
	}{{"mem", CoreMemory, 0}, {"realloc", CoreFunc, 2}, {"shout", CoreFunc, 3}, {"post-shout", CoreFunc, 4}, {"add", CoreFunc, 5}}
	if len(m.Exports) != len(wantExports) {
		t.Fatalf("%d exports, want %d", len(m.Exports), len(wantExports))
	}
	for i, w := range wantExports {
		e := m.Exports[i]
		if e.Name != w.name || e.Kind != w.kind || e.Index != w.index {
			t.Errorf("export %d = %s %s %d, want %s %s %d", i, e.Name, e.Kind, e.Index, w.name, w.kind, w.index)
		}
	}
	if got := m.Exports[1].Type.Func; !got.Equal(reallocType) {
		t.Errorf("realloc export type %s, want %s", got, reallocType)
	}
	if m.NumFuncs != 6 || m.NumMemories != 1 || m.NumTables != 0 || m.NumGlobals != 0 {
		t.Errorf("sizes funcs=%d memories=%d tables=%d globals=%d, want 6 1 0 0", m.NumFuncs, m.NumMemories, m.NumTables, m.NumGlobals)
	}
}

func TestCoreModuleDataSize(t *testing.T) {
	header := "\x00asm\x01\x00\x00\x00"
	memory := "\x05\x03\x01\x00\x01" // one memory of one page
	// One active segment at i32.const 0 holding "abcd": 10 bytes.
	data := "\x0b\x0a\x01\x00\x41\x00\x0b\x04abcd"
	if m := readModule([]byte(header+memory+data), 0); m.DataSize != 10 || m.NumMemories != 1 {
		t.Errorf("DataSize = %d, memories = %d; want 10 and 1", m.DataSize, m.NumMemories)
	}
	if m := readModule([]byte(header+memory), 0); m.DataSize != 0 {
		t.Errorf("DataSize = %d without a data section, want 0", m.DataSize)
	}
}

func TestDecodeRealComponents(t *testing.T) {
	for _, name := range testcomponents.Names() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(testcomponents.Path(t, name))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(c.Exports()) == 0 {
				t.Errorf("no exports")
			}
			for _, e := range c.Exports() {
				checkResolved(t, e.Name, e.Type)
			}
			for _, e := range c.Imports() {
				checkResolved(t, e.Name, e.Type)
			}
		})
	}
}

// checkResolved fails when an extern type lacks the resolved type its kind needs.
func checkResolved(t *testing.T, name string, et ExternType) {
	t.Helper()
	switch et.Kind {
	case KindFunc:
		if et.Func == nil {
			t.Errorf("%s: func without a type", name)
		}
	case KindType:
		if (et.Type == nil) == (et.Resource == nil) {
			t.Errorf("%s: type with %v value type and %v resource", name, et.Type, et.Resource)
		}
	case KindInstance:
		for _, e := range et.Instance.Exports {
			checkResolved(t, name+"/"+e.Name, e.Type)
		}
	case KindComponent, KindModule:
	default:
		t.Errorf("%s: unexpected kind %s", name, et.Kind)
	}
}

// TestDecodeRealComponentTruncated truncates a real component everywhere
// outside its core modules (inside them, the section length check fails
// first, which the fixtures' truncation test covers).
func TestDecodeRealComponentTruncated(t *testing.T) {
	b, err := os.ReadFile(testcomponents.Path(t, testcomponents.CTool))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	// Within a core module only its first and last 16 bytes are cut: any
	// cut in between fails the same section length check.
	skip := map[int]int{} // module start+16 → module end-16
	for _, d := range c.Defs {
		if m, ok := d.(*CoreModule); ok && len(m.Bytes) > 32 {
			skip[int(m.Offset)+16] = int(m.Offset) + len(m.Bytes) - 16
		}
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	var cuts []int
	for n := 0; n < len(b); n += step {
		for start, end := range skip {
			if n >= start && n < end {
				n = end
			}
		}
		cuts = append(cuts, n)
	}
	ends := sectionEnds(t, b)
	for _, n := range cuts {
		if _, err := Decode(b[:n]); err == nil && !ends[n] {
			t.Fatalf("Decode of the first %d of %d bytes succeeded", n, len(b))
		}
	}
}

// BenchmarkDecodeRealComponent decodes a componentize-js component (a 12 MB
// core module inside): the module bytes are sliced, not copied or scanned.
func BenchmarkDecodeRealComponent(b *testing.B) {
	data, err := os.ReadFile(testcomponents.Path(b, testcomponents.JSAllTypes))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeSharedFixtures decodes the hand-written fixtures of
// testdata/components/fixtures, whose verdicts come from wasm-tools'
// validator: a differential test against the reference implementation.
func TestDecodeSharedFixtures(t *testing.T) {
	for _, fx := range testcomponents.Fixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			b, err := os.ReadFile(testcomponents.Fixture(t, fx.Name))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decode(b)
			switch fx.Expect {
			case "valid":
				if err != nil {
					t.Errorf("Decode: %v; wasm-tools accepts it", err)
				}
			case "invalid":
				if err == nil {
					t.Errorf("Decode succeeded; wasm-tools rejects it: %s", fx.Error)
				}
			case "core-module":
				if !errors.Is(err, ErrCoreModule) {
					t.Errorf("Decode error %v, want ErrCoreModule", err)
				}
			default:
				t.Fatalf("unknown expectation %q in fixtures/index.json", fx.Expect)
			}
		})
	}
}

func TestCustomSections(t *testing.T) {
	docs := []byte("\x01{\"docs\":\"A tool.\"}")
	b := component(
		section(secCustom, str("package-docs"), docs),
		section(secCustom, str("producers"), []byte{0x00}),
	)
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.PackageDocs) != string(docs) {
		t.Errorf("PackageDocs = %q, want %q", c.PackageDocs, docs)
	}
	if len(c.Custom) != 2 || c.Custom[0].Name != "package-docs" || c.Custom[1].Name != "producers" || string(c.Custom[1].Data) != "\x00" {
		t.Errorf("Custom = %+v, want package-docs and producers with their data", c.Custom)
	}
	if c.Custom[1].Offset != int64(len(b)-1-len("producers")-1) {
		t.Errorf("producers section content at offset %#x, want %#x", c.Custom[1].Offset, len(b)-1-len("producers")-1)
	}
}
