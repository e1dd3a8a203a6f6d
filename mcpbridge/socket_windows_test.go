//go:build windows

package mcpbridge

import (
	"os"
	"path/filepath"
)

// testSocket is the MCP socket of a test owner of dir: a named pipe named
// after dir, which is unique.
func testSocket(dir string) string { return `\\.\pipe\tapedeck-test-` + filepath.Base(dir) }

// stopProcess ends a test owner: Windows cannot deliver SIGTERM.
func stopProcess(p *os.Process) { p.Kill() }
