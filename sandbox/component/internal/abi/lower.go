package abi

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf16"
	"unicode/utf8"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// utf16Tag is UTF16_TAG for 32-bit memories: in latin1+utf16, the high bit of
// a string's code-unit count says the string is UTF-16.
const utf16Tag = 1 << 31

// lowerer writes component values into a guest: as flat core values and
// into linear memory, which it allocates with the guest's cabi_realloc.
// realloc may grow memory and so move it; mem is refreshed after each call.
type lowerer struct {
	ctx  context.Context
	opts *Options
	inst *Instance
	mem  []byte
	// scope is the export call the values are lowered for, which borrows are
	// lent into; nil when lowering an import's results (no borrows there).
	scope        *callScope
	reallocStack [4]uint64
}

func (l *lowerer) refresh() {
	if l.opts.Memory != nil {
		l.mem, _ = l.opts.Memory.Read(0, l.opts.Memory.Size())
	}
}

// realloc calls the guest's cabi_realloc with may_leave cleared, and traps
// unless the result is aligned and newSize bytes from it are in memory.
func (l *lowerer) realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	if l.opts.Memory == nil || l.opts.Realloc == nil {
		return 0, fmt.Errorf("this function passes values that need guest memory allocated, but its canonical options lack a memory or realloc")
	}
	s := l.reallocStack[:]
	s[0], s[1], s[2], s[3] = uint64(old), uint64(oldSize), uint64(align), uint64(newSize)
	l.inst.mayLeave = false
	err := l.opts.Realloc.CallWithStack(l.ctx, s)
	l.inst.mayLeave = true
	if err != nil {
		return 0, &Trap{Message: fmt.Sprintf("cabi_realloc(%#x, %d, %d, %d) failed", old, oldSize, align, newSize), Cause: err}
	}
	ptr := uint32(s[0])
	l.refresh()
	if align > 1 && ptr&(align-1) != 0 {
		return 0, trapf("cabi_realloc(%#x, %d, %d, %d) returned %#x, which is not %d-byte aligned", old, oldSize, align, newSize, ptr, align)
	}
	if uint64(ptr)+uint64(newSize) > uint64(len(l.mem)) {
		return 0, trapf("cabi_realloc(%#x, %d, %d, %d) returned %#x, but %#x + %d bytes is outside linear memory (%d bytes)",
			old, oldSize, align, newSize, ptr, ptr, newSize, len(l.mem))
	}
	return ptr, nil
}

func (l *lowerer) allocate(align, size uint32) (uint32, error) { return l.realloc(0, 0, align, size) }

// valueError reports a Go value that does not match its component type: a
// bug in the host code that produced it, not in the guest.
func valueError(v any, t *types.Type) error {
	return fmt.Errorf("value of Go type %T cannot be lowered as %s (want %s)", v, t, goTypeName(t.Kind))
}

func goTypeName(k types.Kind) string {
	switch k {
	case types.Bool:
		return "bool"
	case types.S8:
		return "int8"
	case types.U8:
		return "uint8"
	case types.S16:
		return "int16"
	case types.U16:
		return "uint16"
	case types.S32:
		return "int32"
	case types.U32, types.Flags:
		return "uint32"
	case types.S64:
		return "int64"
	case types.U64:
		return "uint64"
	case types.F32:
		return "float32"
	case types.F64:
		return "float64"
	case types.Char:
		return "rune"
	case types.String:
		return "string"
	case types.List, types.Record, types.Tuple:
		return "[]any"
	case types.Variant, types.Enum, types.Option, types.Result:
		return "types.VariantValue"
	case types.Own, types.Borrow:
		return "types.Handle"
	}
	return "?"
}

// lowerFlat is lower_flat: it appends the flat core values of v (of type t)
// to dst. i32 values are zero-extended, so a narrower value already has the
// bits lower_flat_variant's coercions give it in a wider joined slot.
func (l *lowerer) lowerFlat(dst []uint64, v any, t *types.Type) ([]uint64, error) {
	switch t.Kind {
	case types.Variant, types.Option, types.Result, types.Enum:
		vv, ok := v.(types.VariantValue)
		if !ok {
			return nil, valueError(v, t)
		}
		c, err := variantCase(vv, t)
		if err != nil {
			return nil, err
		}
		end := len(dst) + flatCount(t)
		dst = append(dst, uint64(vv.Case))
		if c != nil {
			if dst, err = l.lowerFlat(dst, vv.Value, c); err != nil {
				return nil, err
			}
		}
		for len(dst) < end {
			dst = append(dst, 0)
		}
		return dst, nil
	case types.Record, types.Tuple:
		fields, err := fieldValues(v, t)
		if err != nil {
			return nil, err
		}
		for i, f := range t.Fields {
			if dst, err = l.lowerFlat(dst, fields[i], f.Type); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case types.String:
		s, ok := v.(string)
		if !ok {
			return nil, valueError(v, t)
		}
		ptr, units, err := l.storeStringIntoRange(s)
		if err != nil {
			return nil, err
		}
		return append(dst, uint64(ptr), uint64(units)), nil
	case types.List:
		elems, ok := v.([]any)
		if !ok {
			return nil, valueError(v, t)
		}
		ptr, err := l.storeListIntoRange(elems, t.Elem)
		if err != nil {
			return nil, err
		}
		return append(dst, uint64(ptr), uint64(len(elems))), nil
	case types.S64, types.U64, types.F64:
		i, err := lower64(v, t)
		if err != nil {
			return nil, err
		}
		return append(dst, i), nil
	}
	i, err := l.lowerI32(v, t)
	if err != nil {
		return nil, err
	}
	return append(dst, uint64(i)), nil
}

// lower64 is the i64 (or f64 bits) of an s64, u64 or f64 value.
func lower64(v any, t *types.Type) (uint64, error) {
	switch x := v.(type) {
	case int64:
		if t.Kind == types.S64 {
			return uint64(x), nil
		}
	case uint64:
		if t.Kind == types.U64 {
			return x, nil
		}
	case float64:
		if t.Kind == types.F64 {
			return encodeF64(x), nil
		}
	}
	return 0, valueError(v, t)
}

// lowerI32 is the i32 (or f32 bits) of a value whose type flattens to one
// 32-bit value and is stored in memory in its low Size(t) bytes.
func (l *lowerer) lowerI32(v any, t *types.Type) (uint32, error) {
	var i uint32
	ok := true
	switch t.Kind {
	case types.Bool:
		var b bool
		if b, ok = v.(bool); b {
			i = 1
		}
	case types.S8:
		var x int8
		x, ok = v.(int8)
		i = uint32(int32(x))
	case types.U8:
		var x uint8
		x, ok = v.(uint8)
		i = uint32(x)
	case types.S16:
		var x int16
		x, ok = v.(int16)
		i = uint32(int32(x))
	case types.U16:
		var x uint16
		x, ok = v.(uint16)
		i = uint32(x)
	case types.S32:
		var x int32
		x, ok = v.(int32)
		i = uint32(x)
	case types.U32:
		i, ok = v.(uint32)
	case types.F32:
		var f float32
		f, ok = v.(float32)
		i = encodeF32(f)
	case types.Char:
		var r rune
		if r, ok = v.(rune); ok {
			if r < 0 || r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
				return 0, fmt.Errorf("char value %#x is not a Unicode scalar value", r)
			}
			i = uint32(r)
		}
	case types.Flags:
		i, ok = v.(uint32)
		i &= flagsMask(len(t.Labels))
	case types.Own, types.Borrow:
		h, isHandle := v.(types.Handle)
		if !isHandle {
			return 0, valueError(v, t)
		}
		if t.Kind == types.Own {
			return l.lowerOwn(h, t)
		}
		return l.lowerBorrow(h, t)
	default:
		return 0, fmt.Errorf("cannot lower a value of type %s as one 32-bit value", t)
	}
	if !ok {
		return 0, valueError(v, t)
	}
	return i, nil
}

// encodeF32 is encode_float_as_i32 in the deterministic profile: every NaN
// becomes the canonical NaN.
func encodeF32(f float32) uint32 {
	if f != f {
		return canonicalNaN32
	}
	return math.Float32bits(f)
}

func encodeF64(f float64) uint64 {
	if f != f {
		return canonicalNaN64
	}
	return math.Float64bits(f)
}

func variantCase(vv types.VariantValue, t *types.Type) (*types.Type, error) {
	cases := Cases(t)
	if uint64(vv.Case) >= uint64(len(cases)) {
		return nil, fmt.Errorf("case %d of %s does not exist (%d cases)", vv.Case, t, len(cases))
	}
	c := cases[vv.Case]
	if c == nil && vv.Value != nil {
		return nil, fmt.Errorf("case %d of %s has no payload, but the value carries a %T", vv.Case, t, vv.Value)
	}
	return c, nil
}

func fieldValues(v any, t *types.Type) ([]any, error) {
	fields, ok := v.([]any)
	if !ok {
		return nil, valueError(v, t)
	}
	if len(fields) != len(t.Fields) {
		return nil, fmt.Errorf("%s has %d fields, but the value has %d", t, len(t.Fields), len(fields))
	}
	return fields, nil
}

// store is store: v (of type t) written at ptr, which the caller has
// allocated (aligned, Size(t) bytes in memory).
func (l *lowerer) store(v any, t *types.Type, ptr uint32) error {
	switch t.Kind {
	case types.String:
		s, ok := v.(string)
		if !ok {
			return valueError(v, t)
		}
		begin, units, err := l.storeStringIntoRange(s)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(l.mem[ptr:], begin)
		binary.LittleEndian.PutUint32(l.mem[ptr+4:], units)
	case types.List:
		elems, ok := v.([]any)
		if !ok {
			return valueError(v, t)
		}
		begin, err := l.storeListIntoRange(elems, t.Elem)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(l.mem[ptr:], begin)
		binary.LittleEndian.PutUint32(l.mem[ptr+4:], uint32(len(elems)))
	case types.Record, types.Tuple:
		fields, err := fieldValues(v, t)
		if err != nil {
			return err
		}
		for i, f := range t.Fields {
			ptr = AlignTo(ptr, Align(f.Type))
			if err := l.store(fields[i], f.Type, ptr); err != nil {
				return err
			}
			ptr += Size(f.Type)
		}
	case types.Variant, types.Option, types.Result, types.Enum:
		vv, ok := v.(types.VariantValue)
		if !ok {
			return valueError(v, t)
		}
		c, err := variantCase(vv, t)
		if err != nil {
			return err
		}
		cases := Cases(t)
		discSize := DiscriminantSize(len(cases))
		storeUint(l.mem, ptr, discSize, vv.Case)
		if c != nil {
			return l.store(vv.Value, c, AlignTo(ptr+discSize, MaxCaseAlign(cases)))
		}
	case types.S64, types.U64, types.F64:
		i, err := lower64(v, t)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(l.mem[ptr:], i)
	default:
		i, err := l.lowerI32(v, t)
		if err != nil {
			return err
		}
		storeUint(l.mem, ptr, Size(t), i)
	}
	return nil
}

func storeUint(m []byte, ptr, size, v uint32) {
	switch size {
	case 1:
		m[ptr] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(m[ptr:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(m[ptr:], v)
	}
}

// storeListIntoRange is store_list_into_range: the elements in a fresh
// allocation; it returns where.
func (l *lowerer) storeListIntoRange(elems []any, elem *types.Type) (uint32, error) {
	size := uint64(Size(elem))
	byteLen := uint64(len(elems)) * size
	if byteLen > MaxListByteLength {
		return 0, fmt.Errorf("list of %d elements of %s (%d bytes) is over the canonical ABI's limit of %d bytes", len(elems), elem, byteLen, MaxListByteLength)
	}
	ptr, err := l.allocate(Align(elem), uint32(byteLen))
	if err != nil {
		return 0, err
	}
	for i, e := range elems {
		if err := l.store(e, elem, ptr+uint32(i)*uint32(size)); err != nil {
			return 0, err
		}
	}
	return ptr, nil
}

// storeStringIntoRange is store_string_into_range for a host (UTF-8) string:
// it writes s in the guest's encoding, following the canonical ABI's
// allocation sizes and shrinking reallocs exactly, and returns the pointer
// and the (tagged) code-unit count.
func (l *lowerer) storeStringIntoRange(s string) (ptr, units uint32, err error) {
	if len(s) > MaxStringByteLength {
		return 0, 0, fmt.Errorf("string of %d bytes is over the canonical ABI's limit of %d", len(s), MaxStringByteLength)
	}
	if !utf8.ValidString(s) {
		return 0, 0, fmt.Errorf("string %.40q is not valid UTF-8", s)
	}
	n := uint32(len(s))
	switch l.opts.Encoding {
	case UTF8:
		// store_string_copy
		if ptr, err = l.allocate(1, n); err != nil {
			return 0, 0, err
		}
		copy(l.mem[ptr:], s)
		return ptr, n, nil
	case UTF16:
		return l.storeUTF8ToUTF16(s)
	case Latin1UTF16:
		return l.storeUTF8ToLatin1OrUTF16(s)
	}
	return 0, 0, fmt.Errorf("unknown string encoding %d", l.opts.Encoding)
}

// storeUTF8ToUTF16 is store_utf8_to_utf16: allocate the worst case (two
// bytes per UTF-8 byte), then shrink to what the text took.
func (l *lowerer) storeUTF8ToUTF16(s string) (uint32, uint32, error) {
	worst := 2 * uint32(len(s))
	ptr, err := l.allocate(2, worst)
	if err != nil {
		return 0, 0, err
	}
	size := putUTF16(l.mem[ptr:], s)
	if size < worst {
		if ptr, err = l.realloc(ptr, worst, 2, size); err != nil {
			return 0, 0, err
		}
	}
	return ptr, size / 2, nil
}

// putUTF16 writes s as UTF-16LE into dst and returns the byte count.
func putUTF16(dst []byte, s string) uint32 {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			binary.LittleEndian.PutUint16(dst[n:], uint16(hi))
			binary.LittleEndian.PutUint16(dst[n+2:], uint16(lo))
			n += 4
			continue
		}
		binary.LittleEndian.PutUint16(dst[n:], uint16(r))
		n += 2
	}
	return uint32(n)
}

// storeUTF8ToLatin1OrUTF16 is store_string_to_latin1_or_utf16: optimistically
// Latin-1 in one byte per source byte; at the first code point above U+00FF,
// grow to the UTF-16 worst case, widen what was written, and finish in UTF-16.
func (l *lowerer) storeUTF8ToLatin1OrUTF16(s string) (uint32, uint32, error) {
	n := uint32(len(s))
	ptr, err := l.allocate(2, n)
	if err != nil {
		return 0, 0, err
	}
	var k uint32 // Latin-1 bytes written
	for i, r := range s {
		if r < 1<<8 {
			l.mem[ptr+k] = byte(r)
			k++
			continue
		}
		worst := 2 * n
		if ptr, err = l.realloc(ptr, n, 2, worst); err != nil {
			return 0, 0, err
		}
		m := l.mem[ptr:]
		for j := int(k) - 1; j >= 0; j-- {
			m[2*j] = m[j]
			m[2*j+1] = 0
		}
		size := 2*k + putUTF16(m[2*k:], s[i:])
		if worst > size {
			if ptr, err = l.realloc(ptr, worst, 2, size); err != nil {
				return 0, 0, err
			}
		}
		return ptr, size/2 | utf16Tag, nil
	}
	if k < n {
		if ptr, err = l.realloc(ptr, n, 2, k); err != nil {
			return 0, 0, err
		}
	}
	return ptr, k, nil
}

// lowerOwn is lower_own: the handle moves into the guest's table.
func (l *lowerer) lowerOwn(h types.Handle, t *types.Type) (uint32, error) {
	if !l.inst.sameResource(h.Resource, t.Resource) {
		return 0, fmt.Errorf("handle to resource %s cannot be lowered as own<%s>", resourceName(h.Resource), t.Resource.Name)
	}
	return l.inst.table.add(&handleEntry{rt: t.Resource, rep: h.Rep, host: h.Host, own: true})
}

// lowerBorrow is lower_borrow: a borrow of a resource this instance
// implements is passed as its rep; any other borrow gets a handle that lives
// until the guest drops it, which it must do before the export call returns.
func (l *lowerer) lowerBorrow(h types.Handle, t *types.Type) (uint32, error) {
	if !l.inst.sameResource(h.Resource, t.Resource) {
		return 0, fmt.Errorf("handle to resource %s cannot be lowered as borrow<%s>", resourceName(h.Resource), t.Resource.Name)
	}
	if l.scope == nil {
		return 0, fmt.Errorf("borrow<%s> cannot be lowered here: results never contain borrows", t.Resource.Name)
	}
	if _, ok := l.inst.guestResources[h.Resource]; ok && h.Host == nil {
		return h.Rep, nil
	}
	i, err := l.inst.table.add(&handleEntry{rt: t.Resource, rep: h.Rep, host: h.Host, scope: l.scope})
	if err != nil {
		return 0, err
	}
	l.scope.numBorrows++
	l.scope.borrowed = append(l.scope.borrowed, i)
	return i, nil
}
