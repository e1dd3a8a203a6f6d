package store

import (
	"bytes"
	"fmt"
)

var (
	wasmMagic       = []byte{0x00, 'a', 's', 'm'}
	componentLayer  = []byte{0x0d, 0x00, 0x01, 0x00} // version 13, layer 1: a component
	coreModuleLayer = []byte{0x01, 0x00, 0x00, 0x00} // version 1, layer 0: a core module
)

// checkComponent reports whether data starts like a WebAssembly component.
// It checks only the preamble: the runtime validates the rest when it
// compiles the code.
func checkComponent(source string, data []byte) error {
	switch {
	case len(data) < 8:
		return &NotComponentError{Source: source, Reason: fmt.Sprintf("it is only %d bytes long", len(data))}
	case !bytes.Equal(data[:4], wasmMagic):
		reason := "it does not start with the WebAssembly magic bytes \\0asm"
		if t := bytes.TrimLeft(data[:min(len(data), 64)], " \t\r\n"); len(t) > 0 && t[0] == '<' {
			reason += " (it looks like an HTML or XML page: check the URL)"
		}
		return &NotComponentError{Source: source, Reason: reason}
	case bytes.Equal(data[4:8], coreModuleLayer):
		return &NotComponentError{Source: source, Reason: "it is a core WebAssembly module; make a component of it with `wasm-tools component new` (and a WASI adapter if it uses WASI)"}
	case !bytes.Equal(data[4:8], componentLayer):
		return &NotComponentError{Source: source, Reason: fmt.Sprintf("its header % x names a WebAssembly encoding this version of Tapedeck does not know", data[4:8])}
	}
	return nil
}
