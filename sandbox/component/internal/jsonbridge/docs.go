package jsonbridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// PackageDocsSection is the name of the custom section wit-component (and
// wit-docs-inject, which Wassette's components are built with) writes a WIT
// package's doc comments into.
const PackageDocsSection = "package-docs"

// PackageDocs is the content of a package-docs section: the doc comments of
// one WIT package. It follows wit-parser's PackageMetadata, formats 0 and 1
// (one version byte, then JSON). Stability annotations are not kept; maps are
// never nil after ParsePackageDocs.
type PackageDocs struct {
	// Package is the package's name, such as "local:demo@0.1.0"; empty in
	// sections written before the field existed.
	Package    string
	Docs       string
	Worlds     map[string]*WorldDocs
	Interfaces map[string]*InterfaceDocs
}

// WorldDocs holds the docs of one world.
type WorldDocs struct {
	Docs string
	// Funcs are the world's function imports, and in format 0 also its
	// function exports ("funcs" in the JSON).
	Funcs map[string]string
	// FuncExports are the world's function exports (format 1).
	FuncExports map[string]string
	// Interfaces are interfaces the world imports or exports under a plain
	// name (`export tools: interface { … }`); in format 1 exports whose name
	// is also imported are in InterfaceExports instead.
	Interfaces       map[string]*InterfaceDocs
	InterfaceExports map[string]*InterfaceDocs
	Types            map[string]*TypeDocs
}

// InterfaceDocs holds the docs of one interface.
type InterfaceDocs struct {
	Docs  string
	Funcs map[string]string
	Types map[string]*TypeDocs
}

// TypeDocs holds the docs of a type and of its items (record fields,
// variant and enum cases, flags).
type TypeDocs struct {
	Docs  string
	Items map[string]string
}

// ParsePackageDocs parses the content of a package-docs custom section.
// Unknown JSON fields are ignored, so that newer writers stay readable; an
// unknown version byte is an error, because the format's authors bump it only
// for changes older readers would misread.
func ParsePackageDocs(b []byte) (*PackageDocs, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("package-docs section is empty: expected a version byte and JSON")
	}
	if b[0] > 1 {
		return nil, fmt.Errorf("package-docs section has version %d; Tapedeck reads versions 0 and 1 (the component was built by a newer toolchain)", b[0])
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	var raw rawPackageDocs
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("package-docs section: malformed JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("package-docs section: data after the JSON document")
	}
	d := &PackageDocs{
		Package:    raw.Package,
		Docs:       raw.Docs,
		Worlds:     make(map[string]*WorldDocs, len(raw.Worlds)),
		Interfaces: interfaceDocs(raw.Interfaces),
	}
	for name, w := range raw.Worlds {
		d.Worlds[name] = &WorldDocs{
			Docs:             w.Docs,
			Funcs:            funcDocs(w.Funcs),
			FuncExports:      funcDocs(w.FuncExports),
			Interfaces:       interfaceDocs(w.Interfaces),
			InterfaceExports: interfaceDocs(w.InterfaceExports),
			Types:            typeDocs(w.Types),
		}
	}
	return d, nil
}

// Description returns the doc comment of the export function at path, as
// ToolName takes it: the enclosing export names, then the function name. A
// world-level function is looked up in every world's exports; a function of
// an interface export named "ns:pkg/iface@version" in the package's
// interface "iface" (when the docs are for package ns:pkg); one of an
// interface exported under a plain name in the worlds' interface exports.
// It returns "" when the docs say nothing about the function.
func Description(docs *PackageDocs, path ...string) string {
	if docs == nil || len(path) == 0 {
		return ""
	}
	fn := path[len(path)-1]
	if len(path) == 1 {
		for _, w := range sortedWorlds(docs) {
			if s := w.FuncExports[fn]; s != "" {
				return s
			}
			if s := w.Funcs[fn]; s != "" {
				return s
			}
		}
		return ""
	}
	export := path[len(path)-2]
	if pkg, iface, ok := splitInterfaceName(export); ok {
		if docs.Package != "" && !samePackage(docs.Package, pkg) {
			return ""
		}
		if i := docs.Interfaces[iface]; i != nil {
			return i.Funcs[fn]
		}
		return ""
	}
	for _, w := range sortedWorlds(docs) {
		if i := w.InterfaceExports[export]; i != nil && i.Funcs[fn] != "" {
			return i.Funcs[fn]
		}
		if i := w.Interfaces[export]; i != nil && i.Funcs[fn] != "" {
			return i.Funcs[fn]
		}
	}
	return ""
}

// splitInterfaceName splits "ns:pkg/iface@1.2.3" into "ns:pkg" and "iface".
func splitInterfaceName(name string) (pkg, iface string, ok bool) {
	slash := strings.LastIndexByte(name, '/')
	if slash < 0 || !strings.Contains(name[:slash], ":") {
		return "", "", false
	}
	pkg, iface = name[:slash], name[slash+1:]
	if at := strings.IndexByte(iface, '@'); at >= 0 {
		iface = iface[:at]
	}
	return pkg, iface, true
}

// samePackage reports whether a package name with an optional version
// ("ns:pkg@0.1.0") names package pkg ("ns:pkg").
func samePackage(withVersion, pkg string) bool {
	if at := strings.IndexByte(withVersion, '@'); at >= 0 {
		withVersion = withVersion[:at]
	}
	return withVersion == pkg
}

func sortedWorlds(docs *PackageDocs) []*WorldDocs {
	names := make([]string, 0, len(docs.Worlds))
	for n := range docs.Worlds {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*WorldDocs, len(names))
	for i, n := range names {
		out[i] = docs.Worlds[n]
	}
	return out
}

// The JSON shapes of wit-parser's PackageMetadata.
type (
	rawPackageDocs struct {
		Package    string                      `json:"package"`
		Docs       string                      `json:"docs"`
		Worlds     map[string]rawWorldDocs     `json:"worlds"`
		Interfaces map[string]rawInterfaceDocs `json:"interfaces"`
	}
	rawWorldDocs struct {
		Docs             string                      `json:"docs"`
		Interfaces       map[string]rawInterfaceDocs `json:"interfaces"`
		Types            map[string]rawTypeDocs      `json:"types"`
		Funcs            map[string]rawFuncDocs      `json:"funcs"`
		InterfaceExports map[string]rawInterfaceDocs `json:"interface_exports"`
		FuncExports      map[string]rawFuncDocs      `json:"func_exports"`
	}
	rawInterfaceDocs struct {
		Docs  string                 `json:"docs"`
		Funcs map[string]rawFuncDocs `json:"funcs"`
		Types map[string]rawTypeDocs `json:"types"`
	}
	rawTypeDocs struct {
		Docs  string            `json:"docs"`
		Items map[string]string `json:"items"`
	}
)

// rawFuncDocs is a function's entry: in format 0 the doc string itself (or
// null), in format 1 an object {"docs": …, "stability": …}.
type rawFuncDocs struct {
	Docs string
}

func (f *rawFuncDocs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &f.Docs)
	}
	var obj struct {
		Docs string `json:"docs"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("function docs: expected a string or {\"docs\": …}: %w", err)
	}
	f.Docs = obj.Docs
	return nil
}

func funcDocs(raw map[string]rawFuncDocs) map[string]string {
	out := make(map[string]string, len(raw))
	for name, f := range raw {
		out[name] = f.Docs
	}
	return out
}

func interfaceDocs(raw map[string]rawInterfaceDocs) map[string]*InterfaceDocs {
	out := make(map[string]*InterfaceDocs, len(raw))
	for name, i := range raw {
		out[name] = &InterfaceDocs{Docs: i.Docs, Funcs: funcDocs(i.Funcs), Types: typeDocs(i.Types)}
	}
	return out
}

func typeDocs(raw map[string]rawTypeDocs) map[string]*TypeDocs {
	out := make(map[string]*TypeDocs, len(raw))
	for name, t := range raw {
		items := t.Items
		if items == nil {
			items = map[string]string{}
		}
		out[name] = &TypeDocs{Docs: t.Docs, Items: items}
	}
	return out
}
