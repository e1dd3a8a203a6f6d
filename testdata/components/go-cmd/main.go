// Command go-cmd is a tiny WASI command (GOOS=wasip1) that becomes a component
// exporting wasi:cli/run through `jco new --wasi-command`. It writes one line to stdout
// and one to stderr, so a host can check that both reach their per-call buffers.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("hello from go-cmd (%d args, %d environment variables)\n", len(os.Args), len(os.Environ()))
	fmt.Fprintln(os.Stderr, "go-cmd: done")
}
