package ui

import (
	"testing"

	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

func TestDescribe(t *testing.T) {
	claude := sandbox.Client{Name: "Claude Code", Version: "1.2", Transport: "socket", PID: 4121, Process: "claude"}
	tests := []struct {
		name                           string
		req                            sandbox.AccessRequest
		headline, what, client, proces string
	}{
		{"network", sandbox.AccessRequest{Component: "weather", Client: claude,
			Access: policy.Network{Scheme: "https", Host: "api.example.com", Port: 443}},
			"weather wants to connect to api.example.com", "Connect to api.example.com:443 (https)", "Claude Code 1.2", "claude (pid 4121)"},
		{"storage_read", sandbox.AccessRequest{Component: "notes", Access: policy.Storage{Path: "/home/a/x.md"}},
			"notes wants to read files on your computer", "Read /home/a/x.md", "an unnamed client", "not known (the connection does not tell)"},
		{"storage_write", sandbox.AccessRequest{Component: "notes", Client: sandbox.Client{Name: "cursor", Transport: "stdio"},
			Access: policy.Storage{Path: "/tmp/out", Write: true}},
			"notes wants to change files on your computer", "Write to /tmp/out", "cursor", "not known (a stdio connection does not tell)"},
		{"environment", sandbox.AccessRequest{Component: "gh", Access: policy.Env{Key: "GITHUB_TOKEN"}},
			"gh wants to read the variable GITHUB_TOKEN", "Read the environment variable GITHUB_TOKEN", "an unnamed client", "not known (the connection does not tell)"},
		{"agent_grant", sandbox.AccessRequest{Component: "gh", Grant: true, Client: claude, Access: policy.Network{Host: "github.com"}},
			"An agent asks to let gh connect to github.com", "Connect to github.com (network)", "Claude Code 1.2", "claude (pid 4121)"},
		{"proposal", sandbox.AccessRequest{Component: "gh", Proposal: "version: \"1.0\""},
			"gh arrived with its own policy", "Apply this policy to gh:", "an unnamed client", "not known (the connection does not tell)"},
		{"pid_without_name", sandbox.AccessRequest{Component: "c", Client: sandbox.Client{Name: "x", PID: 7}, Access: policy.Config{Key: "k"}},
			"c wants to read the setting k", "Read the config key k", "x", "pid 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(tt.req)
			if got.Headline != tt.headline || got.What != tt.what || got.Client != tt.client || got.Process != tt.proces {
				t.Errorf("describe = %+v\nwant headline %q, what %q, client %q, process %q", got, tt.headline, tt.what, tt.client, tt.proces)
			}
			if got.Why == "" {
				t.Error("no plain-words reason")
			}
		})
	}
	t.Run("request_reason_wins", func(t *testing.T) {
		got := describe(sandbox.AccessRequest{Component: "c", Access: policy.Env{Key: "K"}, Why: "because"})
		if got.Why != "because" {
			t.Errorf("Why = %q; want the request's own reason", got.Why)
		}
	})
}
