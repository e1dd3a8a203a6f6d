// Package binary decodes and validates Component Model binaries (the format of
// design/mvp/Binary.md in WebAssembly/component-model, version 0x0d, layer 1)
// into an AST the linker walks in order.
//
// # Usage
//
//	c, err := binary.Decode(wasmBytes)
//	if err != nil {
//		return err // a *binary.Error naming the byte offset and what was wrong
//	}
//	for _, imp := range c.Imports() {
//		fmt.Println(imp.Name, imp.Type)
//	}
//	for _, def := range c.Defs {
//		switch def := def.(type) {
//		case *binary.CoreModule: // compile def.Bytes
//		case *binary.CoreInstance: // instantiate def.Instantiate.Module, or build from def.Exports
//		case *binary.Canon: // lift, lower, resource.new/drop/rep
//		// …
//		}
//	}
//
// # The AST
//
// A [Component] is its definitions ([Component.Defs]) in binary order, one
// [Definition] per item of every section, so the linker can replay them: each
// definition says which index it adds to which index space (the Index fields),
// and every index it refers to points at an earlier definition of the same
// index space. Embedded core modules are not copied: [CoreModule.Bytes] is a
// slice of the input, so the input must not be modified while the Component
// is in use. Nested components are decoded recursively into their own
// [Component].
//
// # Validation
//
// Decode validates as it decodes: a *Component it returns is valid, and every
// definition carries its resolved types, so no consumer needs to look at a type
// index. Decode checks what an engine must not trust:
//
//   - every count and length against the bytes left (a huge count never
//     allocates), LEB128 encodings, UTF-8 names;
//   - indices in range in every index space (core func, table, memory, global,
//     type, module, instance; component func, type, component, instance);
//   - core instantiation arguments against the module's imports (names,
//     kinds, function types), and aliases against what the instance exports;
//   - canon lift and lower core function types against abi.FlattenFunc of the
//     component function type, and the canonical options (memory, realloc,
//     post-return, string-encoding) each type needs;
//   - component instantiation arguments against the nested component's import
//     types, and export type ascriptions against what they export;
//   - extern names (kebab-case labels, interface names ns:pkg/iface@semver,
//     [constructor]/[method]/[static] annotations and their types), strong
//     uniqueness of names in every scope;
//   - resource types: own and borrow only of resource types, borrow never in
//     results or exported types, resource.new and resource.rep only of a
//     resource this component defines, destructor types.
//
// What a WASI 0.2 toolchain never emits is refused with an [*Error] that wraps
// [ErrUnsupported]: the async ABI and its built-ins, threads, streams, futures,
// error-context, fixed-length lists, maps, value definitions and start
// functions with values, memory64, GC types, unknown section ids.
//
// # Resolved types
//
// Component value and function types resolve to [types.Type] and [types.Func].
// Resource types resolve to [*types.Resource], whose identity is its pointer:
// an imported resource (an instance import's `(export "r" (type (sub
// resource)))`, or a top-level `(import "r" (type (sub resource)))`) becomes a
// fresh *types.Resource per import, named by its export name and the import's
// name (Interface); an `(eq N)` bound is the same pointer as type N; a
// resource defined by a component is a fresh *types.Resource per definition.
// Names given to types where they are imported or exported are recorded in
// [types.Type.Name] (on a copy: shared types are never modified).
package binary
