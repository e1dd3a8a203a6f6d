package coregen

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// provider: (module (memory (export "mem") 1) (global (export "g") i32 (i32.const 7))
//
//	(func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
var provider = []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
	1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, // type (i32)->i32
	3, 2, 1, 0, // func 0: type 0
	5, 3, 1, 0, 1, // memory min 1
	6, 6, 1, 0x7f, 0, 0x41, 7, 0x0b, // global i32 const 7
	7, 15, 3, 3, 'm', 'e', 'm', 2, 0, 1, 'g', 3, 0, 1, 'f', 0, 0, // exports
	10, 9, 1, 7, 0, 0x20, 0, 0x41, 1, 0x6a, 0x0b, // code
}

func TestReExportLinksAndCalls(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	src, err := r.InstantiateWithConfig(ctx, provider, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	gen := ReExport([]Item{
		{Kind: Func, Module: "src", Name: "f", Export: "inc", Params: []api.ValueType{api.ValueTypeI32}, Results: []api.ValueType{api.ValueTypeI32}},
		{Kind: Memory, Module: "src", Name: "mem", Export: "memory"},
		{Kind: Global, Module: "src", Name: "g", Export: "seven", GlobalType: api.ValueTypeI32},
	})
	rctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
		if name == "src" {
			return src
		}
		return nil
	})
	m, err := r.InstantiateWithConfig(rctx, gen, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatalf("instantiate generated module: %v", err)
	}
	res, err := m.ExportedFunction("inc").Call(ctx, 41)
	if err != nil || res[0] != 42 {
		t.Fatalf("inc(41) = %v, %v; want 42", res, err)
	}
	if m.ExportedMemory("memory") == nil || m.ExportedMemory("memory").Size() != 65536 {
		t.Fatal("re-exported memory missing or not the provider's")
	}
	m.ExportedMemory("memory").WriteByte(3, 9)
	if b, _ := src.Memory().ReadByte(3); b != 9 {
		t.Fatal("re-exported memory is a copy, not the provider's memory")
	}
	if g := m.ExportedGlobal("seven"); g == nil || g.Get() != 7 {
		t.Fatal("re-exported global missing or wrong")
	}
}

func TestRenameImportModules(t *testing.T) {
	// (module (import "" "0" (func)) (import "keep" "x" (memory 1)))
	in := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0,
		2, 16, 2, 0, 1, '0', 0, 0, 4, 'k', 'e', 'e', 'p', 1, 'x', 2, 0, 1,
	}
	out, changed, err := RenameImportModules(in, map[string]string{"": "empty"})
	if err != nil || !changed {
		t.Fatalf("RenameImportModules = changed %v, %v", changed, err)
	}
	want := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0,
		2, 21, 2, 5, 'e', 'm', 'p', 't', 'y', 1, '0', 0, 0, 4, 'k', 'e', 'e', 'p', 1, 'x', 2, 0, 1,
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("got  % x\nwant % x", out, want)
	}
	if _, err := wazero.NewRuntime(context.Background()).CompileModule(context.Background(), out); err != nil {
		t.Fatalf("renamed module does not compile: %v", err)
	}
	same, changed, err := RenameImportModules(in, map[string]string{"nothing": "x"})
	if err != nil || changed || !bytes.Equal(same, in) {
		t.Fatalf("no-op rename changed the module: %v %v", changed, err)
	}
}

func TestRenameImportModulesMalformed(t *testing.T) {
	good := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 2, 7, 1, 0, 1, '0', 0, 0, 0}
	for i := 8; i < len(good); i++ {
		if _, _, err := RenameImportModules(good[:i], map[string]string{"": "e"}); err == nil && i > 8 {
			t.Errorf("truncated at %d: no error", i)
		}
	}
}

func FuzzRenameImportModules(f *testing.F) {
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 2, 7, 1, 0, 1, '0', 0, 0, 0})
	f.Add(provider)
	f.Fuzz(func(t *testing.T, b []byte) {
		out, changed, err := RenameImportModules(b, map[string]string{"": "renamed"})
		if err == nil && !changed && !bytes.Equal(out, b) {
			t.Fatal("unchanged module came back different")
		}
	})
}
