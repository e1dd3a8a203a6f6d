package component

import (
	"crypto/sha256"
	"encoding/hex"

	"tapedeck.dev/tapedeck/sandbox/component/internal/binary"
	"tapedeck.dev/tapedeck/sandbox/component/internal/jsonbridge"
)

// Info describes a component without compiling or running it: what it
// imports, what it exports, and the tools it would offer.
type Info struct {
	Name    string // from the component-name section; often empty
	Size    int
	SHA256  string // hex
	Imports []Extern
	Exports []Extern
	Tools   []Tool // Tool.Func has no compiled code behind it: Info's tools cannot be called
}

// Extern is one import or export.
type Extern struct {
	Name string
	// Kind is "instance", "func", "type", "component" or "core module".
	Kind string
	// Type is the type in brief, for a function its WIT signature.
	Type string
	// Funcs lists an instance's functions.
	Funcs []ExternFunc `json:",omitempty"`
	// Provided reports, for an import, whether a host interface serves it;
	// Missing says why not.
	Provided bool   `json:",omitempty"`
	Missing  string `json:",omitempty"`
}

// ExternFunc is a function of an imported or exported instance.
type ExternFunc struct {
	Name string
	Type string
}

// Inspect decodes and validates a component and describes it. hosts, when
// not nil, is asked which imports can be served; Inspect does not compile
// anything, so it works on components this host cannot run.
func Inspect(wasm []byte, hosts *Registry) (*Info, error) {
	bin, err := binary.Decode(wasm)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	info := &Info{Name: bin.Name, Size: len(wasm), SHA256: hex.EncodeToString(sum[:])}
	for _, e := range bin.Imports() {
		x := describeExtern(e)
		if e.Type.Kind == binary.KindInstance && hosts != nil {
			if hi := hosts.Lookup(e.Name); hi == nil {
				x.Missing = "no host interface provides it"
			} else {
				x.Provided = true
				for _, f := range e.Type.Instance.Exports {
					if f.Type.Kind == binary.KindFunc {
						if _, ok := hi.Funcs[f.Name]; !ok {
							x.Provided = false
							x.Missing = "the host interface lacks " + f.Name
							break
						}
					}
				}
			}
		} else if e.Type.Kind == binary.KindType && e.Type.Resource == nil {
			x.Provided = true // a type import with an equality bound needs nothing
		} else if hosts != nil {
			x.Missing = "only instance imports can be served by the host"
		}
		info.Imports = append(info.Imports, x)
	}
	for _, e := range bin.Exports() {
		info.Exports = append(info.Exports, describeExtern(e))
	}
	docs, _ := jsonbridge.ParsePackageDocs(bin.PackageDocs)
	for _, f := range exportedFuncs(nil, bin.Exports()) {
		info.Tools = append(info.Tools, toolFor(f, docs))
	}
	return info, nil
}

// exportedFuncs lists the functions reachable through exports.
func exportedFuncs(prefix []string, exports []binary.Extern) []*Func {
	var out []*Func
	for _, e := range exports {
		path := append(append([]string(nil), prefix...), e.Name)
		switch e.Type.Kind {
		case binary.KindFunc:
			out = append(out, &Func{Path: path, Type: e.Type.Func})
		case binary.KindInstance:
			out = append(out, exportedFuncs(path, e.Type.Instance.Exports)...)
		}
	}
	return out
}

func describeExtern(e binary.Extern) Extern {
	x := Extern{Name: e.Name, Kind: e.Type.Kind.String(), Type: e.Type.String()}
	if e.Type.Kind == binary.KindInstance {
		for _, f := range e.Type.Instance.Exports {
			if f.Type.Kind == binary.KindFunc {
				x.Funcs = append(x.Funcs, ExternFunc{Name: f.Name, Type: f.Type.Func.String()})
			}
		}
	}
	return x
}

func toolFor(f *Func, docs *jsonbridge.PackageDocs) Tool {
	t := Tool{Name: jsonbridge.ToolName(f.Path...), Description: jsonbridge.Description(docs, f.Path...), Func: f}
	var err error
	if t.InputSchema, err = jsonbridge.InputSchema(f.Type); err == nil {
		t.OutputSchema, err = jsonbridge.OutputSchema(f.Type)
	}
	if err != nil {
		t.InputSchema, t.OutputSchema = nil, nil
		t.Unavailable = err.Error()
	}
	return t
}
