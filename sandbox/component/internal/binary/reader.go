package binary

import (
	"unicode/utf8"
)

// reader reads the binary format from a byte slice. It never reads past its
// end: every length and count is checked against the bytes left before
// anything is allocated. Failures bail (see errors.go) with the absolute
// offset of the problem.
type reader struct {
	buf  []byte
	pos  int
	base int64 // absolute offset of buf[0] in the outermost input
}

func newReader(b []byte, base int64) *reader { return &reader{buf: b, base: base} }

// offset returns the absolute offset of the next byte.
func (r *reader) offset() int64 { return r.base + int64(r.pos) }

func (r *reader) remaining() int { return len(r.buf) - r.pos }

func (r *reader) done() bool { return r.pos >= len(r.buf) }

func (r *reader) fail(format string, args ...any) { bail(r.offset(), format, args...) }

func (r *reader) byte() byte {
	if r.pos >= len(r.buf) {
		r.fail("unexpected end of input")
	}
	b := r.buf[r.pos]
	r.pos++
	return b
}

func (r *reader) peek() byte {
	if r.pos >= len(r.buf) {
		r.fail("unexpected end of input")
	}
	return r.buf[r.pos]
}

// bytes returns the next n bytes as a slice of the input (not a copy).
func (r *reader) bytes(n uint32) []byte {
	if uint64(n) > uint64(r.remaining()) {
		r.fail("length %d exceeds the %d bytes left", n, r.remaining())
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

// u32 reads an unsigned LEB128 of at most 5 bytes whose value fits 32 bits.
func (r *reader) u32() uint32 {
	start := r.offset()
	var v uint32
	for i := 0; ; i++ {
		b := r.byte()
		if i == 4 && b&0xf0 != 0 {
			bail(start, "integer too large for u32 (LEB128 overflow)")
		}
		v |= uint32(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			return v
		}
	}
}

// s64 reads a signed LEB128 of at most 10 bytes (the immediates of
// i32.const and i64.const in constant expressions).
func (r *reader) s64() int64 {
	start := r.offset()
	var v int64
	var shift uint
	for {
		if shift >= 70 {
			bail(start, "integer too large for s64 (LEB128 overflow)")
		}
		b := r.byte()
		v |= int64(b&0x7f) << shift
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// count reads a vector length and checks that that many elements of at least
// minSize bytes each can fit in the bytes left, so a huge count fails here
// instead of allocating.
func (r *reader) count(what string, minSize int) uint32 {
	start := r.offset()
	n := r.u32()
	if uint64(n)*uint64(minSize) > uint64(r.remaining()) {
		bail(start, "%s count %d exceeds the %d bytes left", what, n, r.remaining())
	}
	return n
}

// name reads a length-prefixed UTF-8 string.
func (r *reader) name() string {
	start := r.offset()
	n := r.u32()
	b := r.bytes(n)
	if !utf8.Valid(b) {
		bail(start, "name is not valid UTF-8")
	}
	return string(b)
}

// sub returns a reader over the next n bytes and skips them in r.
func (r *reader) sub(n uint32) *reader {
	base := r.offset()
	return newReader(r.bytes(n), base)
}
