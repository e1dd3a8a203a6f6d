package autostart

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/windows/registry"
)

// runKey is the per-user list of programs Windows starts at login.
const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// commandLine quotes the command the way Windows splits it again.
func commandLine(cmd []string) string {
	parts := make([]string, len(cmd))
	for i, arg := range cmd {
		parts[i] = syscall.EscapeArg(arg)
	}
	return strings.Join(parts, " ")
}

func enable(it Item) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf(`autostart: open HKCU\%s: %w`, runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(it.ID, commandLine(it.Command)); err != nil {
		return fmt.Errorf(`autostart: set HKCU\%s\%s: %w`, runKey, it.ID, err)
	}
	return nil
}

func disable(it Item) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf(`autostart: open HKCU\%s: %w`, runKey, err)
	}
	defer k.Close()
	if err := k.DeleteValue(it.ID); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf(`autostart: delete HKCU\%s\%s: %w`, runKey, it.ID, err)
	}
	return nil
}

func enabled(it Item) (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf(`autostart: open HKCU\%s: %w`, runKey, err)
	}
	defer k.Close()
	v, _, err := k.GetStringValue(it.ID)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf(`autostart: read HKCU\%s\%s: %w`, runKey, it.ID, err)
	}
	return v == commandLine(it.Command), nil
}
