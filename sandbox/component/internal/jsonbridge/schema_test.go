package jsonbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// checkGolden compares got, indented, with testdata/<name>.json.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	pretty.WriteByte('\n')
	file := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from the output (run go test -update if the change is intended)\ngot:\n%s\nwant:\n%s", file, pretty.Bytes(), want)
	}
}

func point() *types.Type {
	t := types.RecordOf(types.Field{Name: "x", Type: types.S32Type}, types.Field{Name: "y", Type: types.S32Type})
	t.Name = "point"
	return t
}

// schemaCases is one type of every kind, and the combinations with rules of
// their own (list<u8>, nested options, results with missing sides).
func schemaCases() []struct {
	name string
	t    *types.Type
} {
	named := func(t *types.Type, name string) *types.Type { t.Name = name; return t }
	return []struct {
		name string
		t    *types.Type
	}{
		{"bool", types.BoolType},
		{"s8", types.S8Type},
		{"u8", types.U8Type},
		{"s16", types.S16Type},
		{"u16", types.U16Type},
		{"s32", types.S32Type},
		{"u32", types.U32Type},
		{"s64", types.S64Type},
		{"u64", types.U64Type},
		{"f32", types.F32Type},
		{"f64", types.F64Type},
		{"char", types.CharType},
		{"string", types.StringType},
		{"list-string", types.ListOf(types.StringType)},
		{"list-u8", types.ListOf(types.U8Type)},
		{"record", point()},
		{"tuple", types.TupleOf(types.StringType, types.U32Type)},
		{"variant", named(types.VariantOf(
			types.Case{Name: "none"},
			types.Case{Name: "text", Type: types.StringType},
			types.Case{Name: "at", Type: point()},
		), "shape")},
		{"enum", named(types.EnumOf("red", "green", "blue"), "color")},
		{"option", types.OptionOf(types.StringType)},
		{"option-option", types.OptionOf(types.OptionOf(types.U32Type))},
		{"result", types.ResultOf(types.StringType, types.U8Type)},
		{"result-empty", types.ResultOf(nil, nil)},
		{"result-err-only", types.ResultOf(nil, types.StringType)},
		{"flags", named(types.FlagsOf("read", "write", "exec"), "mode")},
		{"flags-empty", types.FlagsOf()},
		{"list-of-records", types.ListOf(types.RecordOf(
			types.Field{Name: "name", Type: types.StringType},
			types.Field{Name: "tags", Type: types.ListOf(types.StringType)},
			types.Field{Name: "note", Type: types.OptionOf(types.StringType)},
		))},
	}
}

func TestSchemaGolden(t *testing.T) {
	for _, tt := range schemaCases() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Schema(tt.t)
			if err != nil {
				t.Fatalf("Schema(%s): %v", tt.t, err)
			}
			checkGolden(t, "schema/"+tt.name, got)
		})
	}
}

func TestSchemaIsDeterministic(t *testing.T) {
	for _, tt := range schemaCases() {
		t.Run(tt.name, func(t *testing.T) {
			first, err := Schema(tt.t)
			if err != nil {
				t.Fatal(err)
			}
			for range 20 {
				again, _ := Schema(tt.t)
				if !bytes.Equal(first, again) {
					t.Fatalf("two runs differ:\n%s\n%s", first, again)
				}
			}
		})
	}
}

func funcCases() []struct {
	name string
	ft   *types.Func
} {
	return []struct {
		name string
		ft   *types.Func
	}{
		{"no-params-no-results", &types.Func{}},
		{"fetch", &types.Func{
			Params:  []types.Param{{Name: "url", Type: types.StringType}},
			Results: []types.Param{{Type: types.ResultOf(types.StringType, types.StringType)}},
		}},
		{"optional-param", &types.Func{
			Params: []types.Param{
				{Name: "path", Type: types.StringType},
				{Name: "limit", Type: types.OptionOf(types.U32Type)},
			},
			Results: []types.Param{{Type: types.ListOf(types.StringType)}},
		}},
		{"named-results", &types.Func{
			Params:  []types.Param{{Name: "p", Type: point()}},
			Results: []types.Param{{Name: "length", Type: types.F64Type}, {Name: "angle", Type: types.F64Type}},
		}},
	}
}

func TestFuncSchemasGolden(t *testing.T) {
	for _, tt := range funcCases() {
		t.Run(tt.name, func(t *testing.T) {
			in, err := InputSchema(tt.ft)
			if err != nil {
				t.Fatalf("InputSchema(%s): %v", tt.ft, err)
			}
			checkGolden(t, "func/"+tt.name+".input", in)
			out, err := OutputSchema(tt.ft)
			if err != nil {
				t.Fatalf("OutputSchema(%s): %v", tt.ft, err)
			}
			if len(tt.ft.Results) == 0 {
				if out != nil {
					t.Errorf("OutputSchema of a function without results = %s, want nil", out)
				}
				return
			}
			checkGolden(t, "func/"+tt.name+".output", out)
		})
	}
}

// deepRecord returns a type of n record levels, each using the level below
// twice: small as a graph, 2^n nodes as a tree.
func deepRecord(n int) *types.Type {
	t := types.StringType
	for range n {
		t = types.RecordOf(types.Field{Name: "a", Type: t}, types.Field{Name: "b", Type: t})
	}
	return t
}

func TestSchemaUnrepresentable(t *testing.T) {
	file := &types.Resource{Name: "file"}
	deep := types.StringType
	for range MaxDepth + 1 {
		deep = types.ListOf(deep)
	}
	manyFlags := make([]string, 33)
	for i := range manyFlags {
		manyFlags[i] = "f" + strings.Repeat("x", i)
	}
	tests := []struct {
		name     string
		ft       *types.Func
		wantPath string
		wantText string
	}{
		{"ownParam", &types.Func{Params: []types.Param{{Name: "src", Type: types.StringType}, {Name: "file", Type: types.OwnOf(file)}}},
			"arguments.file", "arguments.file: own<file> cannot be represented in JSON: it is a resource handle"},
		{"borrowInList", &types.Func{Params: []types.Param{{Name: "files", Type: types.ListOf(types.BorrowOf(file))}}},
			"arguments.files[0]", "borrow<file> cannot be represented in JSON"},
		{"ownInRecordField", &types.Func{Params: []types.Param{{Name: "r", Type: types.RecordOf(types.Field{Name: "h", Type: types.OwnOf(file)})}}},
			"arguments.r.h", "own<file>"},
		{"ownResult", &types.Func{Results: []types.Param{{Type: types.OwnOf(file)}}},
			"result", "result: own<file> cannot be represented in JSON"},
		{"tooDeep", &types.Func{Params: []types.Param{{Name: "deep", Type: deep}}},
			"arguments.deep", "nested more than 128 levels deep"},
		{"tooManyFlags", &types.Func{Params: []types.Param{{Name: "f", Type: types.FlagsOf(manyFlags...)}}},
			"arguments.f", "33 flags"},
		{"exponentialSchema", &types.Func{Params: []types.Param{{Name: "big", Type: deepRecord(40)}}},
			"arguments.big", "more than 65536 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if len(tt.ft.Params) > 0 {
				_, err = InputSchema(tt.ft)
			} else {
				_, err = OutputSchema(tt.ft)
			}
			var ue *UnrepresentableError
			if !errors.As(err, &ue) {
				t.Fatalf("got error %v, want an *UnrepresentableError", err)
			}
			if !strings.HasPrefix(ue.Path, tt.wantPath) {
				t.Errorf("Path = %q, want it to start with %q", ue.Path, tt.wantPath)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}
