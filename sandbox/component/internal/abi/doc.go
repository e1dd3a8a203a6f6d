// Package abi implements the Component Model's canonical ABI on wazero:
// how component values are laid out in linear memory and flattened into core
// parameters and results, lifting and lowering them, and the per-instance
// resource handle tables. It follows design/mvp/CanonicalABI.md and its
// executable reference, canonical-abi/definitions.py, literally.
package abi
