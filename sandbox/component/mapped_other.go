//go:build !(linux || darwin)

package component

// newMapped returns nil: memories live on the Go heap on this platform.
func newMapped(limit uint64) linearMemory { return nil }
