package abi

import "fmt"

// Trap is the error for a failure the guest caused: an out-of-bounds or
// misaligned pointer, invalid UTF-8, an invalid discriminant or char, a bad
// handle, a realloc that misbehaved, an import called while may_leave is
// false, or a core-wasm trap inside the guest. The canonical ABI says such a
// call traps; the linker turns a Trap into the end of that call and reports
// Error() to a person, so the message says what was wrong and where.
//
// Errors that are not Traps come from the host side (a Go value that does not
// match its type, a missing memory or realloc the component should have
// declared): they are bugs in Tapedeck or a component the validator should
// have refused, not in the guest's behaviour.
type Trap struct {
	// Message says what the guest did wrong.
	Message string
	// Cause is the underlying error when the trap came from elsewhere, such
	// as wazero's error for a core-wasm trap; nil otherwise.
	Cause error
}

func (t *Trap) Error() string {
	if t.Cause != nil {
		return t.Message + ": " + t.Cause.Error()
	}
	return t.Message
}

// Unwrap returns the trap's cause, so errors.Is and errors.As see through it
// (to a context deadline, say).
func (t *Trap) Unwrap() error { return t.Cause }

func trapf(format string, args ...any) *Trap {
	return &Trap{Message: fmt.Sprintf(format, args...)}
}

// checkRange traps unless [ptr, ptr+size) lies inside a memory of memSize
// bytes and ptr is a multiple of align. what names the pointer in the message.
func checkRange(what string, ptr uint32, size uint64, align uint32, memSize int) error {
	if align > 1 && ptr&(align-1) != 0 {
		return trapf("%s pointer %#x is not %d-byte aligned", what, ptr, align)
	}
	// uint64 arithmetic: ptr < 2^32 and size < 2^34 cannot overflow.
	if uint64(ptr)+size > uint64(memSize) {
		return trapf("%s pointer %#x + %d bytes is outside linear memory (%d bytes)", what, ptr, size, memSize)
	}
	return nil
}
