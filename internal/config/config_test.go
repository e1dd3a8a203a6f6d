package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadMissingIsDefaults(t *testing.T) {
	s, err := Load(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s != Defaults() {
		t.Errorf("Load of an empty folder = %+v, want the defaults %+v", s, Defaults())
	}
}

func TestSetSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	s := Defaults()
	for k, v := range map[string]string{"prompt-timeout": "90s", "http": "on", "http-address": "[::1]:9000"} {
		if err := s.Set(k, v); err != nil {
			t.Fatalf("Set(%s, %s): %v", k, v, err)
		}
	}
	if err := Save(dir, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{PromptTimeout: 90 * time.Second, HTTP: true, HTTPAddress: "[::1]:9000"}
	if got != want {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
	if all := got.All(); all["http"] != "true" || all["prompt-timeout"] != "1m30s" {
		t.Errorf("All() = %v", all)
	}
}

func TestSetRefuses(t *testing.T) {
	tests := []struct {
		name, key, value, says string
	}{
		{"unknown_key", "colour", "blue", "unknown setting"},
		{"bad_duration", "prompt-timeout", "soon", "duration"},
		{"too_short", "prompt-timeout", "10ms", "duration"},
		{"bad_bool", "http", "maybe", "on or off"},
		{"not_loopback", "http-address", "0.0.0.0:8787", "loopback"},
		{"no_port", "http-address", "127.0.0.1", "host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			err := s.Set(tt.key, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Set(%s, %s) = %v, want an error saying %q", tt.key, tt.value, err, tt.says)
			}
			if s != Defaults() {
				t.Errorf("a refused Set changed the settings: %+v", s)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, text string }{
		{"unknown_field", "colour = 'blue'\n"},
		{"not_toml", "{{{"},
		{"bad_value", "http-address = '8.8.8.8:53'\n"},
		{"wrong_type", "http = 'yes please'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := Parse([]byte(tt.text)); err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", tt.text, s)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("prompt-timeout = '90s'\nhttp = true\nhttp-address = '127.0.0.1:8787'\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses must be settings Set would accept, and survive a round trip.
		for k, v := range s.All() {
			c := Defaults()
			if err := c.Set(k, v); err != nil {
				t.Fatalf("Parse accepted %s = %q, which Set refuses: %v", k, v, err)
			}
		}
		dir := t.TempDir()
		if err := Save(dir, s); err != nil {
			t.Fatal(err)
		}
		again, err := Load(dir)
		if err != nil || again != s {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, s)
		}
	})
}
