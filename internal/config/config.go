// Package config reads and writes Tapedeck's settings file, config.toml
// in the config folder (internal/paths): the few settings that are the
// person's rather than a component's — how long a question waits for an
// answer, and whether and where Tapedeck serves HTTP.
//
// Settings are addressed by key, so the command line (`tapedeck config`)
// and the tray show and change them the same way.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/pelletier/go-toml/v2"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// FileName is the settings file's name in the config folder.
const FileName = "config.toml"

// maxFileSize caps what Load reads; the file holds a handful of lines.
const maxFileSize = 64 << 10

// Settings are the person's settings. The zero value is not the defaults:
// use Defaults, or Load, which fills in what the file leaves out.
type Settings struct {
	// PromptTimeout is how long a question about an access waits for the
	// person before it is denied.
	PromptTimeout time.Duration
	// HTTP says whether the owner also serves MCP over HTTP.
	HTTP bool
	// HTTPAddress is where it does: a loopback host:port.
	HTTPAddress string
}

// Defaults are the settings of a fresh install.
func Defaults() Settings {
	return Settings{PromptTimeout: 60 * time.Second, HTTPAddress: "127.0.0.1:8787"}
}

// file is the TOML shape, durations as Go duration strings a person can edit.
type file struct {
	PromptTimeout string `toml:"prompt-timeout,omitempty"`
	HTTP          *bool  `toml:"http,omitempty"`
	HTTPAddress   string `toml:"http-address,omitempty"`
}

// Keys are the settings' names, as the file and `tapedeck config` spell them.
func Keys() []string { return []string{"http", "http-address", "prompt-timeout"} }

// Load reads the settings in dir; a missing file means the defaults.
func Load(dir string) (Settings, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Defaults(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("reading the settings: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFileSize+1)); err != nil {
		return Settings{}, fmt.Errorf("reading the settings: %w", err)
	}
	if buf.Len() > maxFileSize {
		return Settings{}, fmt.Errorf("%s is over %d KiB; it is not a Tapedeck settings file: move it away", path, maxFileSize>>10)
	}
	s, err := Parse(buf.Bytes())
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w; fix it with `tapedeck config set`, or delete it for the defaults", path, err)
	}
	return s, nil
}

// Parse reads a settings file's text over the defaults.
func Parse(data []byte) (Settings, error) {
	var f file
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Settings{}, fmt.Errorf("not valid settings: %w", err)
	}
	s := Defaults()
	if f.PromptTimeout != "" {
		if err := s.Set("prompt-timeout", f.PromptTimeout); err != nil {
			return Settings{}, err
		}
	}
	if f.HTTP != nil {
		s.HTTP = *f.HTTP
	}
	if f.HTTPAddress != "" {
		if err := s.Set("http-address", f.HTTPAddress); err != nil {
			return Settings{}, err
		}
	}
	return s, nil
}

// Save writes s to dir atomically, mode 0600.
func Save(dir string, s Settings) error {
	http := s.HTTP
	data, err := toml.Marshal(file{PromptTimeout: s.PromptTimeout.String(), HTTP: &http, HTTPAddress: s.HTTPAddress})
	if err != nil {
		return fmt.Errorf("encoding the settings: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the config folder: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
		return fmt.Errorf("saving the settings: %w", err)
	}
	return nil
}

// Get returns the value of key as text.
func (s Settings) Get(key string) (string, error) {
	switch key {
	case "prompt-timeout":
		return s.PromptTimeout.String(), nil
	case "http":
		return strconv.FormatBool(s.HTTP), nil
	case "http-address":
		return s.HTTPAddress, nil
	}
	return "", unknownKey(key)
}

// All returns every key's value.
func (s Settings) All() map[string]string {
	out := map[string]string{}
	for _, k := range Keys() {
		out[k], _ = s.Get(k)
	}
	return out
}

// Set changes key to value, checking the value.
func (s *Settings) Set(key, value string) error {
	switch key {
	case "prompt-timeout":
		d, err := time.ParseDuration(value)
		if err != nil || d < time.Second || d > 24*time.Hour {
			return fmt.Errorf("prompt-timeout %q: want a duration from 1s to 24h, such as 90s or 5m", value)
		}
		s.PromptTimeout = d
	case "http":
		b, err := strconv.ParseBool(value)
		switch value {
		case "on":
			b, err = true, nil
		case "off":
			b, err = false, nil
		}
		if err != nil {
			return fmt.Errorf("http %q: want on or off (true or false)", value)
		}
		s.HTTP = b
	case "http-address":
		host, port, err := net.SplitHostPort(value)
		if err != nil || port == "" {
			return fmt.Errorf("http-address %q: want a loopback host:port such as 127.0.0.1:8787", value)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("http-address %q: Tapedeck serves HTTP on loopback addresses only (127.0.0.1, ::1 or localhost)", value)
		}
		s.HTTPAddress = value
	default:
		return unknownKey(key)
	}
	return nil
}

func unknownKey(key string) error {
	keys := Keys()
	sort.Strings(keys)
	return fmt.Errorf("unknown setting %q (the settings are %v)", key, keys)
}
