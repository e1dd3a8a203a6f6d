package winpipe

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, pipe string
		ok         bool
	}{
		{name: "tapedeck", pipe: `\\.\pipe\tapedeck-ann-0123abcd`, ok: true},
		{name: "longest", pipe: `\\.\pipe\` + strings.Repeat("a", maxNameLen-len(pipePrefix)), ok: true},
		{name: "too_long", pipe: `\\.\pipe\` + strings.Repeat("a", maxNameLen-len(pipePrefix)+1)},
		{name: "empty_rest", pipe: `\\.\pipe\`},
		{name: "remote_host", pipe: `\\server\pipe\tapedeck`},
		{name: "unix_path", pipe: "/run/user/1000/tapedeck/mcp.sock"},
		{name: "backslash_in_rest", pipe: `\\.\pipe\a\b`},
		{name: "nul", pipe: "\\\\.\\pipe\\a\x00b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkName(tt.pipe)
			if (err == nil) != tt.ok {
				t.Errorf("checkName(%q) = %v, want ok=%v", tt.pipe, err, tt.ok)
			}
		})
	}
}

func TestUserOnlySDDL(t *testing.T) {
	tests := []struct {
		name, sid, want string
	}{
		{name: "domain_user", sid: "S-1-5-21-3623811015-3361044348-30300820-1013", want: "D:P(A;;GA;;;S-1-5-21-3623811015-3361044348-30300820-1013)"},
		{name: "local_system", sid: "S-1-5-18", want: "D:P(A;;GA;;;S-1-5-18)"},
		{name: "alias_not_sid", sid: "BA"},
		{name: "injected_ace", sid: "S-1-5-18)(A;;GA;;;WD"},
		{name: "no_subauthority", sid: "S-1-5"},
		{name: "empty_part", sid: "S-1-5--18"},
		{name: "empty", sid: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := userOnlySDDL(tt.sid)
			if tt.want == "" {
				if err == nil {
					t.Errorf("userOnlySDDL(%q) = %q, want an error", tt.sid, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("userOnlySDDL(%q) = %q, %v; want %q", tt.sid, got, err, tt.want)
			}
		})
	}
}
