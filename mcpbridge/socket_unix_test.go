//go:build !windows

package mcpbridge

import (
	"os"
	"path/filepath"
	"syscall"
)

// testSocket is the MCP socket of a test owner of dir: a unix socket in it.
func testSocket(dir string) string { return filepath.Join(dir, "mcp.sock") }

// stopProcess asks a test owner to end, as a person's `kill` does.
func stopProcess(p *os.Process) { p.Signal(syscall.SIGTERM) }
