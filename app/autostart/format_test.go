package autostart

import (
	"slices"
	"strings"
	"testing"
)

func TestExecLine(t *testing.T) {
	tests := []struct {
		name string
		cmd  []string
		want string
	}{
		{"plain", []string{"/usr/bin/tapedeck"}, "/usr/bin/tapedeck"},
		{"space", []string{"/opt/My App/tapedeck", "-v"}, `"/opt/My App/tapedeck" -v`},
		{"percent_is_not_a_field_code", []string{"/bin/x", "100%"}, "/bin/x 100%%"},
		{"quote_dollar_backtick", []string{"/bin/x", "a\"$`b"}, `/bin/x "a\\"\\$\\` + "`" + `b"`},
		{"backslash", []string{"/bin/x", `a\b`}, `/bin/x "a\\\\b"`},
		{"empty_argument", []string{"/bin/x", ""}, `/bin/x ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := execLine(tt.cmd); got != tt.want {
				t.Errorf("execLine(%q) = %s; want %s", tt.cmd, got, tt.want)
			}
		})
	}
}

func TestLaunchAgentRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cmd  []string
	}{
		{"plain", []string{"/Applications/Tapedeck.app/Contents/MacOS/tapedeck"}},
		{"markup_characters", []string{"/Applications/A & <B>.app/x", `--name="q"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plist := launchAgent(Item{ID: "dev.tapedeck.Tapedeck", Command: tt.cmd})
			if !strings.Contains(plist, "<key>RunAtLoad</key>\n\t<true/>") {
				t.Errorf("the agent does not run at login:\n%s", plist)
			}
			if !strings.Contains(plist, "<string>dev.tapedeck.Tapedeck</string>") {
				t.Errorf("the agent lacks its label:\n%s", plist)
			}
			if got := launchAgentArgs(plist); !slices.Equal(got, tt.cmd) {
				t.Errorf("ProgramArguments read back as %q; want %q", got, tt.cmd)
			}
		})
	}
}
