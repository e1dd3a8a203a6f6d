package cli

import (
	"fmt"
	"strings"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/wasi"
)

// hostConfig says what the one-shot verbs (inspect, call) give a component.
type hostConfig struct {
	wasi wasi.Config
}

// newHostRegistry returns the host interfaces a one-shot call links
// against, and the WASI host behind them (which holds what guests print).
func newHostRegistry(hc hostConfig) (*component.Registry, *wasi.Host) {
	reg := component.NewRegistry()
	host := wasi.New(hc.wasi)
	host.Register(reg)
	return reg, host
}

// showGuestOutput copies what the guest printed to the CLI's stderr, each
// line marked, so it never mixes with the JSON result on stdout.
func showGuestOutput(env *Env, inst *component.Instance, host *wasi.Host) {
	out := host.Output(inst)
	for _, s := range []struct {
		name string
		text []byte
	}{{"stdout", out.Stdout}, {"stderr", out.Stderr}} {
		if len(s.text) == 0 {
			continue
		}
		for _, line := range strings.SplitAfter(strings.TrimRight(string(s.text), "\n"), "\n") {
			fmt.Fprintf(env.Stderr, "[guest %s] %s", s.name, strings.TrimRight(line, "\n")+"\n")
		}
	}
}
