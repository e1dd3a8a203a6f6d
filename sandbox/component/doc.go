// Package component runs WebAssembly Components (Component Model, WASI 0.2)
// on stock wazero. It decodes and validates a component, links its core
// modules following the component's own instantiation graph, serves its
// imports from host interfaces (a Registry), and calls its exports with Go
// values, lifting and lowering them through the canonical ABI.
//
// wazero runs core modules only; this package is the Component Model layer
// on its public API. The decoder, the canonical ABI and the JSON bridge live
// in internal packages; types shared with host code are in package types.
package component
