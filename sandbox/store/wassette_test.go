package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

func TestImport(t *testing.T) {
	t.Parallel()
	wassette := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(wassette, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tool := component(t, testcomponents.CTool)
	env := component(t, testcomponents.CEnv)
	write("fetch-rs.wasm", tool)
	write("fetch-rs.policy.yaml", policyYAML("wassette's grants"))
	write("fetch-rs.metadata.json", []byte(wassetteMetadata))
	write("fetch-rs.cwasm", []byte("wasmtime native code"))
	write("no-policy.wasm", env)
	write("core.wasm", []byte{0, 'a', 's', 'm', 1, 0, 0, 0})
	write("broken.wasm", tool)
	write("broken.policy.yaml", []byte("version: \"1.0\"\npermissions:\n  storage:\n    allow: oops\n"))
	write("taken.wasm", env)
	write("-bad-name.wasm", tool)
	write("notes.txt", []byte("not a component"))
	if err := os.Mkdir(filepath.Join(wassette, "downloads"), 0o755); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	s := mustOpen(t, dir, osFS{})
	mine := version(t, "mine", testcomponents.CTool, true)
	if err := s.Put("taken", mine); err != nil {
		t.Fatal(err)
	}

	report, err := s.Import(wassette)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fetch-rs", "no-policy"}; !slices.Equal(report.Imported, want) {
		t.Errorf("imported %v, want %v", report.Imported, want)
	}
	skipped := map[string]string{}
	for _, sk := range report.Skipped {
		skipped[sk.ID] = sk.Reason
	}
	for id, why := range map[string]string{
		"core":      "core WebAssembly module",
		"broken":    "policy does not parse",
		"taken":     "already has a component taken",
		"-bad-name": "must start with a letter or digit",
	} {
		if !strings.Contains(skipped[id], why) {
			t.Errorf("%s: skipped with %q, want a reason saying %q", id, skipped[id], why)
		}
	}
	if len(report.Skipped) != 4 {
		t.Errorf("skipped %+v, want exactly 4", report.Skipped)
	}

	got, err := s.Get("fetch-rs")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != digestOf(tool) || string(got.Policy) != string(policyYAML("wassette's grants")) {
		t.Errorf("fetch-rs imported as code %s with policy %q", got.Digest, got.Policy)
	}
	if got.Settings.GrantsDigest != got.Digest || got.Settings.Source != filepath.Join(wassette, "fetch-rs.wasm") {
		t.Errorf("imported grants do not belong to the imported code: %+v", got.Settings)
	}
	if got.Metadata != nil {
		t.Errorf("Wassette's tool schemas were imported: %+v", got.Metadata)
	}
	if _, err := os.Stat(filepath.Join(dir, "fetch-rs.cwasm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Wassette's native code was imported: %v", err)
	}
	if noPolicy, err := s.Get("no-policy"); err != nil || noPolicy.Policy != nil {
		t.Errorf("no-policy imported as %+v, %v", noPolicy, err)
	}
	if taken, err := s.Get("taken"); err != nil {
		t.Fatal(err)
	} else {
		checkIs(t, taken, mine)
	}

	if _, err := s.Import(filepath.Join(wassette, "missing")); err == nil || !strings.Contains(err.Error(), "--component-dir") {
		t.Errorf("Import of a missing folder = %v, want an error naming --component-dir", err)
	}
}

func TestDefaultWassetteDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the XDG rules checked here are Wassette's on Linux and macOS; Windows uses %APPDATA%")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name, xdg, want string
	}{
		{"xdg", "/data/me", "/data/me/wassette/components"},
		{"no-xdg", "", filepath.Join(home, ".local/share/wassette/components")},
		{"relative-xdg-ignored", "rel", filepath.Join(home, ".local/share/wassette/components")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			got, err := DefaultWassetteDir()
			if err != nil || got != tt.want {
				t.Fatalf("DefaultWassetteDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
