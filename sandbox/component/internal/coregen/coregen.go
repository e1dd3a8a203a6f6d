// Package coregen writes the small core WebAssembly modules the linker needs
// and rewrites what wazero cannot take as is.
//
// A component can build a core instance out of loose items ("instance built
// from exports": a function from here, a memory from there, under new names).
// wazero only links whole modules, so such an instance becomes a generated
// module that imports each item and exports it under its new name. Calls
// through it stay direct: an imported function re-exported is the same
// function.
package coregen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// Kind is a core extern kind, numbered as in the binary format.
type Kind byte

const (
	Func   Kind = 0
	Table  Kind = 1
	Memory Kind = 2
	Global Kind = 3
)

// Item is one item of a generated instance: imported from (Module, Name) and
// exported as Export.
type Item struct {
	Kind   Kind
	Module string
	Name   string
	Export string

	// Func: the function's signature.
	Params, Results []api.ValueType
	// Global: the value type and mutability.
	GlobalType    api.ValueType
	GlobalMutable bool
	// Table: the element type; zero means funcref.
	TableElem api.ValueType
}

// ReExport returns a core module that imports every item and exports it
// under its Export name. Memories and tables are imported with a minimum of
// zero and no maximum (any size links).
func ReExport(items []Item) []byte {
	var types, imports, exports bytes.Buffer
	typeIndex := map[string]uint32{}
	var nTypes, nImports, nExports uint32
	var counts [4]uint32 // index per kind
	for _, it := range items {
		writeName(&imports, it.Module)
		writeName(&imports, it.Name)
		imports.WriteByte(byte(it.Kind))
		switch it.Kind {
		case Func:
			sig := funcSig(it.Params, it.Results)
			ti, ok := typeIndex[string(sig)]
			if !ok {
				ti = nTypes
				nTypes++
				typeIndex[string(sig)] = ti
				types.Write(sig)
			}
			writeU32(&imports, ti)
		case Table:
			elem := it.TableElem
			if elem == 0 {
				elem = 0x70 // funcref
			}
			imports.WriteByte(elem)
			imports.WriteByte(0) // limits: min only
			writeU32(&imports, 0)
		case Memory:
			imports.WriteByte(0)
			writeU32(&imports, 0)
		case Global:
			imports.WriteByte(it.GlobalType)
			if it.GlobalMutable {
				imports.WriteByte(1)
			} else {
				imports.WriteByte(0)
			}
		}
		nImports++
		writeName(&exports, it.Export)
		exports.WriteByte(byte(it.Kind))
		writeU32(&exports, counts[it.Kind])
		counts[it.Kind]++
		nExports++
	}
	var out bytes.Buffer
	out.Write([]byte{0, 'a', 's', 'm', 1, 0, 0, 0})
	writeSection(&out, 1, nTypes, types.Bytes())
	writeSection(&out, 2, nImports, imports.Bytes())
	writeSection(&out, 7, nExports, exports.Bytes())
	return out.Bytes()
}

func funcSig(params, results []api.ValueType) []byte {
	var b bytes.Buffer
	b.WriteByte(0x60)
	writeU32(&b, uint32(len(params)))
	b.Write(params)
	writeU32(&b, uint32(len(results)))
	b.Write(results)
	return b.Bytes()
}

func writeSection(out *bytes.Buffer, id byte, count uint32, body []byte) {
	if count == 0 {
		return
	}
	var hdr bytes.Buffer
	writeU32(&hdr, count)
	out.WriteByte(id)
	writeU32(out, uint32(hdr.Len()+len(body)))
	out.Write(hdr.Bytes())
	out.Write(body)
}

func writeName(b *bytes.Buffer, s string) {
	writeU32(b, uint32(len(s)))
	b.WriteString(s)
}

func writeU32(b *bytes.Buffer, v uint32) {
	var tmp [binary.MaxVarintLen32]byte
	n := binary.PutUvarint(tmp[:], uint64(v))
	b.Write(tmp[:n])
}

// ErrMalformed reports a core module RenameImportModules could not walk.
var ErrMalformed = errors.New("malformed core module")

// RenameImportModules returns bin with every import whose module name is a
// key of renames given the mapped name instead, and whether anything changed.
// wazero rejects an empty import module name, which older wit-component
// fixup modules use; the linker renames "" before compiling. Only the import
// section is rewritten; every other byte is kept.
func RenameImportModules(bin []byte, renames map[string]string) ([]byte, bool, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:4], []byte{0, 'a', 's', 'm'}) {
		return nil, false, fmt.Errorf("%w: no wasm header", ErrMalformed)
	}
	pos := 8
	for pos < len(bin) {
		id := bin[pos]
		size, n := binary.Uvarint(bin[pos+1:])
		if n <= 0 || size > uint64(len(bin)-pos-1-n) {
			return nil, false, fmt.Errorf("%w: section at byte %d overruns the module", ErrMalformed, pos)
		}
		start := pos + 1 + n
		end := start + int(size)
		if id != 2 {
			pos = end
			continue
		}
		body, changed, err := renameInImportSection(bin[start:end], renames)
		if err != nil || !changed {
			return bin, false, err
		}
		var out bytes.Buffer
		out.Grow(len(bin) + 16)
		out.Write(bin[:pos])
		out.WriteByte(2)
		writeU32(&out, uint32(len(body)))
		out.Write(body)
		out.Write(bin[end:])
		return out.Bytes(), true, nil
	}
	return bin, false, nil
}

func renameInImportSection(sec []byte, renames map[string]string) ([]byte, bool, error) {
	r := reader{b: sec}
	count := r.u32()
	var out bytes.Buffer
	writeU32(&out, count)
	changed := false
	for i := uint32(0); i < count && r.err == nil; i++ {
		mod := r.name()
		name := r.name()
		descStart := r.pos
		r.skipImportDesc()
		if r.err != nil {
			break
		}
		if to, ok := renames[mod]; ok {
			mod = to
			changed = true
		}
		writeName(&out, mod)
		writeName(&out, name)
		out.Write(sec[descStart:r.pos])
	}
	if r.err == nil && r.pos != len(sec) {
		r.err = fmt.Errorf("%w: %d stray bytes after the import section's entries", ErrMalformed, len(sec)-r.pos)
	}
	if r.err != nil {
		return nil, false, r.err
	}
	return out.Bytes(), changed, nil
}

type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: import section: bad %s at byte %d", ErrMalformed, what, r.pos)
	}
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 || v > 0xffffffff {
		r.fail("integer")
		return 0
	}
	r.pos += n
	return uint32(v)
}

func (r *reader) byte() byte {
	if r.err != nil || r.pos >= len(r.b) {
		r.fail("byte")
		return 0
	}
	b := r.b[r.pos]
	r.pos++
	return b
}

func (r *reader) name() string {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)-r.pos) {
		r.fail("name")
		return ""
	}
	s := string(r.b[r.pos : r.pos+int(n)])
	r.pos += int(n)
	return s
}

func (r *reader) limits() {
	switch flags := r.byte(); flags {
	case 0:
		r.u32()
	case 1, 3: // 3: shared memory, min and max
		r.u32()
		r.u32()
	case 2:
		r.u32()
	default:
		r.fail("limits")
	}
}

func (r *reader) skipImportDesc() {
	switch r.byte() {
	case 0: // func: type index
		r.u32()
	case 1: // table: reftype, limits
		r.byte()
		r.limits()
	case 2: // memory
		r.limits()
	case 3: // global: valtype, mutability
		r.byte()
		r.byte()
	default:
		r.fail("import kind")
	}
}
