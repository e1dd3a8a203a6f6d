package binary

import (
	"errors"
	"fmt"
)

// Error is a decoding or validation error at a byte offset of the input (the
// outermost component's bytes, also for errors inside nested components and
// core modules).
type Error struct {
	Offset int64
	// Msg says what was wrong, in words a component author can act on.
	Msg string
	// Err is ErrUnsupported or ErrCoreModule when one applies; nil otherwise.
	Err error
}

// Error returns a message like "component: at byte offset 0x1a2: …".
func (e *Error) Error() string {
	return fmt.Sprintf("component: at byte offset %#x: %s", e.Offset, e.Msg)
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

var (
	// ErrUnsupported marks a well-formed feature Tapedeck does not implement,
	// such as the async ABI or memory64.
	ErrUnsupported = errors.New("unsupported component feature")
	// ErrCoreModule marks an input that is a core WebAssembly module rather
	// than a component.
	ErrCoreModule = errors.New("core module given where a component is expected")
)

// bail is how the decoder unwinds: it panics with an *Error, which Decode
// recovers. Any other panic is a bug and propagates.
func bail(offset int64, format string, args ...any) {
	panic(&Error{Offset: offset, Msg: fmt.Sprintf(format, args...)})
}

func bailUnsupported(offset int64, format string, args ...any) {
	panic(&Error{Offset: offset, Msg: fmt.Sprintf(format, args...) + " (not supported by Tapedeck, which runs WASI 0.2 components)", Err: ErrUnsupported})
}

// catch turns a recovered *Error into err; other panics propagate.
func catch(err *error) {
	if r := recover(); r != nil {
		e, ok := r.(*Error)
		if !ok {
			panic(r)
		}
		*err = e
	}
}
