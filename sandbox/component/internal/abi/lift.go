package abi

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf16"
	"unicode/utf8"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// Limits from the canonical ABI (definitions.py): no string or list occupies
// more than 2^28-1 bytes of linear memory.
const (
	MaxStringByteLength = 1<<28 - 1
	MaxListByteLength   = 1<<28 - 1
)

// DefaultMaxLiftBytes is the default cap on the host memory one lift may
// build (Options.MaxLiftBytes). Bounds checks alone do not bound it: lists
// may point at the same bytes again and again, so a 64 KiB memory can
// describe gigabytes of nested lists.
const DefaultMaxLiftBytes = 256 << 20

// Estimated host bytes per lifted value slot ([]any element or record field),
// charged against the lift budget.
const slotCost = 16

// canonical NaN bit patterns (CANONICAL_FLOAT32_NAN, CANONICAL_FLOAT64_NAN).
const (
	canonicalNaN32 = 0x7fc00000
	canonicalNaN64 = 0x7ff8000000000000
)

// lifter reads component values out of a guest: from flat core values and
// from linear memory. Memory does not change while lifting (no guest code
// runs), so mem is one view of it taken up front.
type lifter struct {
	inst   *Instance
	enc    StringEncoding
	mem    []byte
	hasMem bool
	// scope is the import call the values are lifted for; borrow handles
	// are lent to it. nil where a borrow cannot appear (results).
	scope *callScope
	// budget is what is left of limit, the host bytes this lift may build.
	budget, limit uint64
}

func (l *lifter) charge(n uint64) error {
	if n > l.budget {
		return trapf("the values would take more than the host's limit of %d bytes to lift (Options.MaxLiftBytes)", l.limit)
	}
	l.budget -= n
	return nil
}

func (l *lifter) needMem() error {
	if !l.hasMem {
		return fmt.Errorf("this function passes values in linear memory but its canonical options name no memory")
	}
	return nil
}

// flatReader hands out flat core values in order. Callers size vals from
// the flattened type, so next never runs past the end.
type flatReader struct {
	vals []uint64
	i    int
}

func (r *flatReader) next() uint64 {
	v := r.vals[r.i]
	r.i++
	return v
}

// liftFlat is lift_flat: the value of type t from the next flat values.
// Narrower integer and float types take the low bits of a wider joined slot,
// which is exactly the wrap/reinterpret coercion of lift_flat_variant.
func (l *lifter) liftFlat(r *flatReader, t *types.Type) (any, error) {
	switch t.Kind {
	case types.Bool:
		return uint32(r.next()) != 0, nil
	case types.S8:
		return int8(r.next()), nil
	case types.U8:
		return uint8(r.next()), nil
	case types.S16:
		return int16(r.next()), nil
	case types.U16:
		return uint16(r.next()), nil
	case types.S32:
		return int32(uint32(r.next())), nil
	case types.U32:
		return uint32(r.next()), nil
	case types.S64:
		return int64(r.next()), nil
	case types.U64:
		return r.next(), nil
	case types.F32:
		return decodeF32(uint32(r.next())), nil
	case types.F64:
		return decodeF64(r.next()), nil
	case types.Char:
		return convertChar(uint32(r.next()))
	case types.String:
		ptr, n := uint32(r.next()), uint32(r.next())
		return l.loadStringRange(ptr, n)
	case types.List:
		ptr, n := uint32(r.next()), uint32(r.next())
		return l.loadListRange(ptr, n, t.Elem)
	case types.Record, types.Tuple:
		if err := l.charge(uint64(len(t.Fields)) * slotCost); err != nil {
			return nil, err
		}
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			v, err := l.liftFlat(r, f.Type)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case types.Variant, types.Option, types.Result, types.Enum:
		start := r.i
		end := start + flatCount(t)
		cases := Cases(t)
		disc := uint32(r.next())
		if uint64(disc) >= uint64(len(cases)) {
			return nil, trapf("%s discriminant %d is out of range (%d cases)", t.Kind, disc, len(cases))
		}
		v := types.VariantValue{Case: disc}
		if c := cases[disc]; c != nil {
			payload, err := l.liftFlat(r, c)
			if err != nil {
				return nil, err
			}
			v.Value = payload
		}
		r.i = end
		return v, nil
	case types.Flags:
		return uint32(r.next()) & flagsMask(len(t.Labels)), nil
	case types.Own:
		return l.liftOwn(uint32(r.next()), t)
	case types.Borrow:
		return l.liftBorrow(uint32(r.next()), t)
	}
	return nil, fmt.Errorf("cannot lift a value of unknown type kind %v", t.Kind)
}

// flatCount is len(Flatten(t)) without building the slice.
func flatCount(t *types.Type) int {
	switch t.Kind {
	case types.String, types.List:
		return 2
	case types.Record, types.Tuple:
		n := 0
		for _, f := range t.Fields {
			n += flatCount(f.Type)
		}
		return n
	case types.Variant, types.Option, types.Result, types.Enum:
		n := 0
		for _, c := range Cases(t) {
			if c != nil {
				n = max(n, flatCount(c))
			}
		}
		return 1 + n
	}
	return 1
}

func flagsMask(n int) uint32 {
	if n >= 32 {
		return math.MaxUint32
	}
	return 1<<n - 1
}

func decodeF32(bits uint32) float32 {
	f := math.Float32frombits(bits)
	if f != f {
		return math.Float32frombits(canonicalNaN32)
	}
	return f
}

func decodeF64(bits uint64) float64 {
	f := math.Float64frombits(bits)
	if f != f {
		return math.Float64frombits(canonicalNaN64)
	}
	return f
}

func convertChar(i uint32) (rune, error) {
	if i >= 0x110000 {
		return 0, trapf("char value %#x is beyond the last Unicode code point U+10FFFF", i)
	}
	if i >= 0xD800 && i <= 0xDFFF {
		return 0, trapf("char value %#x is a surrogate, not a Unicode scalar value", i)
	}
	return rune(i), nil
}

// load is load: the value of type t stored at ptr. The caller has checked
// that ptr is aligned and that Size(t) bytes from it are in memory.
func (l *lifter) load(ptr uint32, t *types.Type) (any, error) {
	m := l.mem
	switch t.Kind {
	case types.Bool:
		return m[ptr] != 0, nil
	case types.S8:
		return int8(m[ptr]), nil
	case types.U8:
		return m[ptr], nil
	case types.S16:
		return int16(binary.LittleEndian.Uint16(m[ptr:])), nil
	case types.U16:
		return binary.LittleEndian.Uint16(m[ptr:]), nil
	case types.S32:
		return int32(binary.LittleEndian.Uint32(m[ptr:])), nil
	case types.U32:
		return binary.LittleEndian.Uint32(m[ptr:]), nil
	case types.S64:
		return int64(binary.LittleEndian.Uint64(m[ptr:])), nil
	case types.U64:
		return binary.LittleEndian.Uint64(m[ptr:]), nil
	case types.F32:
		return decodeF32(binary.LittleEndian.Uint32(m[ptr:])), nil
	case types.F64:
		return decodeF64(binary.LittleEndian.Uint64(m[ptr:])), nil
	case types.Char:
		return convertChar(binary.LittleEndian.Uint32(m[ptr:]))
	case types.String:
		return l.loadStringRange(binary.LittleEndian.Uint32(m[ptr:]), binary.LittleEndian.Uint32(m[ptr+4:]))
	case types.List:
		return l.loadListRange(binary.LittleEndian.Uint32(m[ptr:]), binary.LittleEndian.Uint32(m[ptr+4:]), t.Elem)
	case types.Record, types.Tuple:
		if err := l.charge(uint64(len(t.Fields)) * slotCost); err != nil {
			return nil, err
		}
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			ptr = AlignTo(ptr, Align(f.Type))
			v, err := l.load(ptr, f.Type)
			if err != nil {
				return nil, err
			}
			out[i] = v
			ptr += Size(f.Type)
		}
		return out, nil
	case types.Variant, types.Option, types.Result, types.Enum:
		cases := Cases(t)
		discSize := DiscriminantSize(len(cases))
		disc := loadUint(m, ptr, discSize)
		if uint64(disc) >= uint64(len(cases)) {
			return nil, trapf("%s discriminant %d at %#x is out of range (%d cases)", t.Kind, disc, ptr, len(cases))
		}
		v := types.VariantValue{Case: disc}
		if c := cases[disc]; c != nil {
			payload, err := l.load(AlignTo(ptr+discSize, MaxCaseAlign(cases)), c)
			if err != nil {
				return nil, err
			}
			v.Value = payload
		}
		return v, nil
	case types.Flags:
		return loadUint(m, ptr, Size(t)) & flagsMask(len(t.Labels)), nil
	case types.Own:
		return l.liftOwn(binary.LittleEndian.Uint32(m[ptr:]), t)
	case types.Borrow:
		return l.liftBorrow(binary.LittleEndian.Uint32(m[ptr:]), t)
	}
	return nil, fmt.Errorf("cannot load a value of unknown type kind %v", t.Kind)
}

func loadUint(m []byte, ptr, size uint32) uint32 {
	switch size {
	case 1:
		return uint32(m[ptr])
	case 2:
		return uint32(binary.LittleEndian.Uint16(m[ptr:]))
	case 4:
		return binary.LittleEndian.Uint32(m[ptr:])
	}
	return 0
}

// loadStringRange is load_string_from_range: a string of taggedUnits code
// units in the instance's encoding at ptr, returned as Go (UTF-8) text.
func (l *lifter) loadStringRange(ptr, taggedUnits uint32) (string, error) {
	if err := l.needMem(); err != nil {
		return "", err
	}
	var byteLen uint64
	var align uint32
	utf16Text := false
	switch l.enc {
	case UTF8:
		byteLen, align = uint64(taggedUnits), 1
	case UTF16:
		byteLen, align, utf16Text = 2*uint64(taggedUnits), 2, true
	case Latin1UTF16:
		align = 2
		if taggedUnits&utf16Tag != 0 {
			byteLen, utf16Text = 2*uint64(taggedUnits^utf16Tag), true
		} else {
			byteLen = uint64(taggedUnits)
		}
	default:
		return "", fmt.Errorf("unknown string encoding %d", l.enc)
	}
	if byteLen > MaxStringByteLength {
		return "", trapf("string at %#x is %d bytes long, over the canonical ABI's limit of %d", ptr, byteLen, MaxStringByteLength)
	}
	if err := checkRange("string", ptr, byteLen, align, len(l.mem)); err != nil {
		return "", err
	}
	if err := l.charge(byteLen); err != nil {
		return "", err
	}
	b := l.mem[ptr : uint64(ptr)+byteLen]
	switch {
	case utf16Text:
		return decodeUTF16(b, ptr)
	case l.enc == Latin1UTF16:
		return decodeLatin1(b), nil
	}
	if !utf8.Valid(b) {
		return "", trapf("string at %#x (%d bytes) is not valid UTF-8", ptr, byteLen)
	}
	return string(b), nil
}

func decodeUTF16(b []byte, ptr uint32) (string, error) {
	out := make([]byte, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		u := rune(binary.LittleEndian.Uint16(b[i:]))
		switch {
		case utf16.IsSurrogate(u):
			if u >= 0xDC00 || i+4 > len(b) {
				return "", trapf("string at %#x is not valid UTF-16: unpaired surrogate %#x at byte %d", ptr, u, i)
			}
			lo := rune(binary.LittleEndian.Uint16(b[i+2:]))
			r := utf16.DecodeRune(u, lo)
			if r == utf8.RuneError {
				return "", trapf("string at %#x is not valid UTF-16: unpaired surrogate %#x at byte %d", ptr, u, i)
			}
			out = utf8.AppendRune(out, r)
			i += 2
		default:
			out = utf8.AppendRune(out, u)
		}
	}
	return string(out), nil
}

func decodeLatin1(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}

// loadListRange is load_list_from_range: n elements of type elem at ptr.
// Every check happens before anything is allocated for the elements.
func (l *lifter) loadListRange(ptr, n uint32, elem *types.Type) ([]any, error) {
	if err := l.needMem(); err != nil {
		return nil, err
	}
	size := uint64(Size(elem))
	byteLen := uint64(n) * size // < 2^64: both factors are below 2^32
	// A zero-size element would let n run to 2^32 with no memory behind it;
	// valid 0.2 types have none, and the host counts each element regardless.
	if byteLen > MaxListByteLength || uint64(n) > MaxListByteLength {
		return nil, trapf("list at %#x of %d elements of %s (%d bytes) is over the canonical ABI's limit of %d bytes", ptr, n, elem, byteLen, MaxListByteLength)
	}
	if err := checkRange("list", ptr, byteLen, Align(elem), len(l.mem)); err != nil {
		return nil, err
	}
	if err := l.charge(uint64(n) * slotCost); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		v, err := l.load(ptr+uint32(i)*uint32(size), elem)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// liftOwn is lift_own: the guest gives up handle i, which must be an
// unlent own of t's resource type; it leaves the table.
func (l *lifter) liftOwn(i uint32, t *types.Type) (types.Handle, error) {
	e, err := l.inst.table.getTyped(t.Resource, i)
	if err != nil {
		return types.Handle{}, fmt.Errorf("lifting own<%s>: %w", t.Resource.Name, err)
	}
	if !e.own {
		return types.Handle{}, trapf("handle %d is a borrow, but an own<%s> was expected", i, t.Resource.Name)
	}
	if e.numLends != 0 {
		return types.Handle{}, trapf("handle %d to %s is lent to a call that has not returned and cannot be moved", i, resourceName(t.Resource))
	}
	l.inst.table.remove(i)
	return e.handle(), nil
}

// liftBorrow is lift_borrow: handle i is lent to the import call in
// progress, which must not outlive it.
func (l *lifter) liftBorrow(i uint32, t *types.Type) (types.Handle, error) {
	if l.scope == nil {
		return types.Handle{}, fmt.Errorf("borrow<%s> cannot be lifted here: results never contain borrows", t.Resource.Name)
	}
	e, err := l.inst.table.getTyped(t.Resource, i)
	if err != nil {
		return types.Handle{}, fmt.Errorf("lifting borrow<%s>: %w", t.Resource.Name, err)
	}
	e.numLends++
	l.scope.lenders = append(l.scope.lenders, e)
	return e.handle(), nil
}
