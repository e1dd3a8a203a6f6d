//go:build unix

package wasi

// fileSystemServed: on unix wasi:filesystem serves the host's files.
const fileSystemServed = true
