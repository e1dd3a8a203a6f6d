//go:build !unix

package wasi

// fileSystemServed: elsewhere every wasi:filesystem operation is denied.
const fileSystemServed = false
