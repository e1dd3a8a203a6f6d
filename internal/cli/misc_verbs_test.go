package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/assets"
	"tapedeck.dev/tapedeck/internal/config"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

func TestRegistrySearch(t *testing.T) {
	s := newSession(t)
	var all, weather []assets.CatalogEntry
	decode(t, s.must("registry", "search", "-o", "json"), &all)
	catalog, err := assets.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(catalog) {
		t.Errorf("search without a query found %d of %d", len(all), len(catalog))
	}
	decode(t, s.must("registry", "search", "WEATHER", "-o", "json"), &weather)
	if len(weather) == 0 {
		t.Fatal("no weather component found")
	}
	for _, e := range weather {
		if !strings.Contains(strings.ToLower(e.Name+e.Description+e.URI), "weather") {
			t.Errorf("%+v does not match weather", e)
		}
	}
	var none []assets.CatalogEntry
	decode(t, s.must("registry", "search", "no-such-thing-at-all", "-o", "json"), &none)
	if len(none) != 0 {
		t.Errorf("found %+v", none)
	}
	if r := s.run("registry", "get", "no-such-thing"); r.code != ExitFailure || !strings.Contains(r.err, "registry search") {
		t.Errorf("get of an unknown name: exit %d, %q", r.code, r.err)
	}
	if r := s.run("registry", "get"); r.code != ExitUsage {
		t.Errorf("get without a name: exit %d, want 2", r.code)
	}
}

func TestShortName(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"oci://ghcr.io/microsoft/time-server-js:latest", "time-server-js"},
		{"oci://ghcr.io/microsoft/fetch-rs@sha256:abc", "fetch-rs"},
		{"https://example.com/x/calc.wasm", "calc.wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := shortName(tt.uri); got != tt.want {
				t.Errorf("shortName(%s) = %s", tt.uri, got)
			}
		})
	}
}

func TestLogs(t *testing.T) {
	s := newSession(t)
	s.loadCalc()
	s.must("permission", "grant", "network", "calc", "api.example.com", "--yes")
	s.must("tool", "invoke", "add", "--args", `{"a":1,"b":1}`)

	var grants []activity.Entry
	decode(t, s.must("logs", "--kind", "grant", "--component", "calc", "-o", "json"), &grants)
	found := false
	for _, e := range grants {
		if e.Kind != activity.KindGrant || e.Component != "calc" {
			t.Errorf("filtered log holds %+v", e)
		}
		found = found || e.Detail["granted"] == "connections to api.example.com"
	}
	if !found {
		t.Errorf("the grant is not in the log: %+v", grants)
	}
	var last []activity.Entry
	decode(t, s.must("logs", "-n", "1", "--since", "1h", "-o", "json"), &last)
	if len(last) != 1 {
		t.Errorf("-n 1 gave %d entries", len(last))
	}
	if out := s.must("logs", "--kind", "call"); !strings.Contains(out, "add") {
		t.Errorf("table of calls lacks the call:\n%s", out)
	}
	for _, args := range [][]string{{"logs", "--kind", "bogus"}, {"logs", "-n", "0"}, {"logs", "--since", "soon"}, {"logs", "extra"}} {
		if r := s.run(args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}

func TestConfig(t *testing.T) {
	s := newSession(t)
	var all map[string]string
	decode(t, s.must("config", "get", "-o", "json"), &all)
	if all["http"] != "false" || all["prompt-timeout"] != config.Defaults().PromptTimeout.String() {
		t.Errorf("defaults = %v", all)
	}
	s.must("config", "set", "http", "on")
	s.must("config", "set", "prompt-timeout", "90s")
	if out := strings.TrimSpace(s.must("config", "get", "prompt-timeout")); out != "1m30s" {
		t.Errorf("prompt-timeout = %q", out)
	}
	file := filepath.Join(s.data, "config", config.FileName)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"config", "set", "http-address", "192.0.2.1:80"},
		{"config", "set", "colour", "blue"},
		{"config", "set", "http"},
		{"config", "get", "colour"},
		{"config", "http-token", "spin"},
	} {
		if r := s.run(args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("refused settings changed the file:\n%s", after)
	}

	s.must("config", "http-token", "rotate")
	token := filepath.Join(s.data, "config", "http-token")
	first, err := os.ReadFile(token)
	if err != nil {
		t.Fatal(err)
	}
	s.must("config", "http-token", "rotate")
	second, _ := os.ReadFile(token)
	if string(first) == string(second) || len(strings.TrimSpace(string(second))) < 32 {
		t.Errorf("rotate did not make a new token: %q then %q", first, second)
	}
}

func TestDoctor(t *testing.T) {
	s := newSession(t)
	var checks []check
	r := s.runWith("", false, "doctor", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &checks); err != nil {
		t.Fatalf("doctor -o json: %v\n%s\n%s", err, r.out, r.err)
	}
	byName := map[string]check{}
	for _, c := range checks {
		byName[c.Name] = c
		if c.Status != checkOK && c.Status != checkWarn && c.Status != checkFail {
			t.Errorf("check %s has status %q", c.Name, c.Status)
		}
		if c.Status == checkFail && r.code != ExitFailure {
			t.Errorf("check %s failed but doctor exited %d", c.Name, r.code)
		}
	}
	for _, name := range []string{"data dir", "owner and socket", "keychain", "tray", "versions"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no %q check in %+v", name, checks)
		}
	}
	if c := byName["tray"]; c.Status != checkWarn || c.Fix == "" {
		t.Errorf("with no session bus the tray check = %+v, want a warning with a fix", c)
	}
	if c := byName["owner and socket"]; !strings.Contains(c.Detail, "no Tapedeck owns") {
		t.Errorf("owner check with no owner = %+v", c)
	}

	s.startOwner(true)
	decode(t, s.must("doctor", "-o", "json"), &checks)
	for _, c := range checks {
		if c.Name == "owner and socket" && (c.Status != checkOK || !strings.Contains(c.Detail, "answers on")) {
			t.Errorf("owner check with an owner = %+v", c)
		}
	}
}
