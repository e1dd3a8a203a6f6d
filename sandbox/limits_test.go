package sandbox

import (
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/sandbox/component"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

func TestLimitsFromPolicy(t *testing.T) {
	parse := func(t *testing.T, limits string) *policy.Policy {
		t.Helper()
		p, err := policy.Parse([]byte("version: \"1.0\"\npermissions:\n  resources:\n    limits: " + limits + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name        string
		limits      string // permissions.resources.limits; empty: no policy
		over        LimitOverrides
		wantMemory  uint64
		wantTimeout time.Duration
		wantWarning string
	}{
		{name: "NoPolicyDefaults", wantMemory: component.DefaultMemoryLimit, wantTimeout: DefaultCallTimeout},
		{name: "PolicyMemory", limits: `{memory: "64Mi"}`, wantMemory: 64 << 20, wantTimeout: DefaultCallTimeout},
		{name: "SettingsWin", limits: `{memory: "64Mi"}`, over: LimitOverrides{Memory: 8 << 20, Timeout: 5 * time.Second},
			wantMemory: 8 << 20, wantTimeout: 5 * time.Second},
		{name: "CPUWarns", limits: `{cpu: "500m"}`, wantMemory: component.DefaultMemoryLimit, wantTimeout: DefaultCallTimeout,
			wantWarning: "resources.limits.cpu (500m) is not enforced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pol *policy.Policy
			if tt.limits != "" {
				pol = parse(t, tt.limits)
			}
			l := LimitsFromPolicy(pol, tt.over)
			if l.Memory != tt.wantMemory || l.Timeout != tt.wantTimeout {
				t.Errorf("limits = %d bytes, %s; want %d, %s", l.Memory, l.Timeout, tt.wantMemory, tt.wantTimeout)
			}
			if got := l.InstantiateOptions().MemoryLimit; got != tt.wantMemory {
				t.Errorf("InstantiateOptions().MemoryLimit = %d, want %d", got, tt.wantMemory)
			}
			warned := strings.Join(l.Warnings, "\n")
			if (tt.wantWarning == "") != (warned == "") || !strings.Contains(warned, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", warned, tt.wantWarning)
			}
		})
	}
	msg := Limits{Timeout: 2 * time.Second}.TimeoutMessage("raise it with --timeout")
	if !strings.Contains(msg, "time limit (2s)") || !strings.Contains(msg, "--timeout") {
		t.Errorf("TimeoutMessage = %q", msg)
	}
}
