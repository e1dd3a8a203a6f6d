package sandbox

import (
	"fmt"
	"time"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// Limits are what one call of a component may spend: the policy's
// resources.limits, a person's settings over them, Tapedeck's defaults
// under them. The Host takes them from LimitsFromPolicy; `tapedeck call`
// runs through a Host too, and asks LimitsFromPolicy only for the warnings
// it prints before the call.
type Limits struct {
	// Memory caps each instance's linear memory, in bytes.
	Memory uint64
	// Timeout is the wall-clock limit of one call.
	Timeout time.Duration
	// Warnings name limits the policy sets that are not enforced.
	Warnings []string
}

// LimitOverrides are a person's own settings for a component; a zero field
// leaves the policy's value or the default.
type LimitOverrides struct {
	Memory  int64 // bytes
	Timeout time.Duration
}

// LimitsFromPolicy returns the limits of calls under pol (nil: no policy)
// with the overrides applied.
func LimitsFromPolicy(pol *policy.Policy, o LimitOverrides) Limits {
	l := Limits{Memory: component.DefaultMemoryLimit, Timeout: DefaultCallTimeout}
	if pol != nil {
		pl := pol.Limits()
		if pl.MemoryBytes > 0 {
			l.Memory = uint64(pl.MemoryBytes)
		}
		if pl.CPUMillis > 0 {
			l.Warnings = append(l.Warnings, fmt.Sprintf(
				"the policy's resources.limits.cpu (%dm) is not enforced: WebAssembly run by wazero cannot be held to a CPU share; the call's time limit bounds it instead",
				pl.CPUMillis))
		}
	}
	if o.Memory > 0 {
		l.Memory = uint64(o.Memory)
	}
	if o.Timeout > 0 {
		l.Timeout = o.Timeout
	}
	return l
}

// InstantiateOptions returns the options an instance runs with under l.
func (l Limits) InstantiateOptions() component.InstantiateOptions {
	return component.InstantiateOptions{MemoryLimit: l.Memory}
}

// TimeoutMessage is what a call stopped by l.Timeout says; setting tells a
// person how to raise it (a flag, the tray).
func (l Limits) TimeoutMessage(setting string) string {
	return fmt.Sprintf("the tool ran longer than its time limit (%s) and was stopped; %s", l.Timeout, setting)
}
