package wasi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mathrand "math/rand/v2"
)

// wasi:random — random from crypto/rand; insecure from math/rand/v2's
// ChaCha8 generator, itself seeded from the operating system; insecure-seed
// from crypto/rand on each call.

func (h *Host) randomFuncs() map[string]map[string]hostFn {
	// bytes serves get-random-bytes and get-insecure-random-bytes: the
	// specification asks for exactly len bytes, so a length over the cap
	// traps rather than returning fewer.
	bytes := func(name string, fill func([]byte)) hostFn {
		return func(ctx context.Context, args []any) ([]any, error) {
			n, err := u64Arg(args[0], name)
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			if n > uint64(st.limits.MaxRandomBytes) {
				return nil, &LimitError{What: fmt.Sprintf("%s of %d bytes", name, n), Setting: "Limits.MaxRandomBytes", Limit: st.limits.MaxRandomBytes}
			}
			p := make([]byte, n)
			fill(p)
			return one(bytesValue(p))
		}
	}
	secureU64 := func() uint64 {
		var b [8]byte
		rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+): it crashes the process instead
		return binary.LittleEndian.Uint64(b[:])
	}
	return map[string]map[string]hostFn{
		"wasi:random/random": {
			"get-random-bytes": bytes("get-random-bytes", func(p []byte) { rand.Read(p) }),
			"get-random-u64": func(context.Context, []any) ([]any, error) {
				return one(secureU64())
			},
		},
		"wasi:random/insecure": {
			"get-insecure-random-bytes": bytes("get-insecure-random-bytes", func(p []byte) {
				for i := 0; i < len(p); i += 8 {
					var b [8]byte
					binary.LittleEndian.PutUint64(b[:], mathrand.Uint64())
					copy(p[i:], b[:])
				}
			}),
			"get-insecure-random-u64": func(context.Context, []any) ([]any, error) {
				return one(mathrand.Uint64())
			},
		},
		"wasi:random/insecure-seed": {
			"insecure-seed": func(context.Context, []any) ([]any, error) {
				return one([]any{secureU64(), secureU64()})
			},
		},
	}
}
