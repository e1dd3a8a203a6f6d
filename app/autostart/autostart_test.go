//go:build !darwin && !windows

package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnableDisableXDG(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	it := Item{ID: "dev.tapedeck.Tapedeck", Name: "Tapedeck", Command: []string{"/opt/Tape Deck/tapedeck", "--tray"}}

	on, err := Enabled(it)
	if err != nil || on {
		t.Fatalf("Enabled before Enable = %v, %v; want false, nil", on, err)
	}
	if err := Enable(it); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	path := filepath.Join(config, "autostart", "dev.tapedeck.Tapedeck.desktop")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the entry is not where a desktop looks for it: %v", err)
	}
	for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n", "Name=Tapedeck\n", `Exec="/opt/Tape Deck/tapedeck" --tray` + "\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("entry lacks %q:\n%s", want, data)
		}
	}
	if on, err := Enabled(it); err != nil || !on {
		t.Fatalf("Enabled after Enable = %v, %v; want true, nil", on, err)
	}
	moved := it
	moved.Command = []string{"/usr/bin/tapedeck"}
	if on, err := Enabled(moved); err != nil || on {
		t.Errorf("Enabled for another command = %v, %v; want false (the entry points elsewhere)", on, err)
	}
	if err := Disable(it); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still there after Disable: %v", err)
	}
	if err := Disable(it); err != nil {
		t.Errorf("Disable twice: %v; want nil", err)
	}
}

func TestHomeFallback(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	it := Item{ID: "x.y", Command: []string{"/bin/true"}}
	if err := Enable(it); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "autostart", "x.y.desktop")); err != nil {
		t.Errorf("without XDG_CONFIG_HOME the entry belongs in ~/.config/autostart: %v", err)
	}
}

func TestInvalidItems(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	tests := []struct {
		name string
		it   Item
	}{
		{"empty_id", Item{Command: []string{"/bin/true"}}},
		{"slash_in_id", Item{ID: "../evil", Command: []string{"/bin/true"}}},
		{"no_command", Item{ID: "a"}},
		{"relative_program", Item{ID: "a", Command: []string{"tapedeck"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Enable(tt.it); err == nil {
				t.Error("Enable accepted an invalid item")
			}
			if err := Disable(tt.it); err == nil {
				t.Error("Disable accepted an invalid item")
			}
			if _, err := Enabled(tt.it); err == nil {
				t.Error("Enabled accepted an invalid item")
			}
		})
	}
}
