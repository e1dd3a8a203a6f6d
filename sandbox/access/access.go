// Package access carries one call's access decisions from the sandbox Host,
// which knows the component's policy and who to ask, to the WASI host,
// which sees every file, host and variable a guest reaches for. The Host puts
// a Checker in each call's context; the WASI host asks it before it acts.
//
// With no Checker in the context everything is denied: a component run
// outside a Host call reaches nothing.
package access

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// Checker decides the accesses of one call. Implementations are safe for
// concurrent use (a guest's HTTP requests may be checked from several
// goroutines).
type Checker interface {
	// Check decides a: nil lets it through; a *DeniedError refuses it; a
	// context error means the call was cancelled while a person was being
	// asked. It may block while a person answers.
	Check(ctx context.Context, a policy.Access) error
	// CheckAddress re-checks, at dial time, an address a decided name
	// resolved to: loopback, private, link-local and similar addresses are
	// refused unless the policy names them (DNS rebinding defence). It never
	// asks a person.
	CheckAddress(ctx context.Context, scheme string, ip netip.Addr, port uint16) error
}

type checkerKey struct{}

// WithChecker returns ctx carrying c.
func WithChecker(ctx context.Context, c Checker) context.Context {
	return context.WithValue(ctx, checkerKey{}, c)
}

// FromContext returns the Checker ctx carries, or one that denies everything.
func FromContext(ctx context.Context) Checker {
	if c, ok := ctx.Value(checkerKey{}).(Checker); ok && c != nil {
		return c
	}
	return denyAll{}
}

type denyAll struct{}

func (denyAll) Check(ctx context.Context, a policy.Access) error {
	return &DeniedError{Access: a, Reason: "no policy applies outside a Tapedeck call"}
}

func (denyAll) CheckAddress(ctx context.Context, scheme string, ip netip.Addr, port uint16) error {
	return &DeniedError{Access: policy.Network{Scheme: scheme, Host: ip.String(), Port: port}, Reason: "no policy applies outside a Tapedeck call"}
}

// DeniedError is an access that was refused. Its message says what was
// refused, why, and how a person can allow it.
type DeniedError struct {
	Access policy.Access
	// Reason says why: the rule that denied it, the person's answer, or
	// that no one could be asked.
	Reason string
	// Hint says how to allow it, such as the command to run; may be empty
	// (a protected folder cannot be allowed).
	Hint string
}

func (e *DeniedError) Error() string {
	msg := fmt.Sprintf("access denied: %s (%s)", e.Access, e.Reason)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// IsDenied reports whether err is, or wraps, a *DeniedError.
func IsDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}
