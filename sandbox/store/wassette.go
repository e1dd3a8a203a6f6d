package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// DefaultWassetteDir returns where Wassette keeps its components by default:
// $XDG_DATA_HOME/wassette/components, else ~/.local/share/wassette/components
// — on macOS too, since Wassette picks its folders with the XDG strategy
// everywhere but Windows — and %APPDATA%\wassette\components on Windows.
func DefaultWassetteDir() (string, error) {
	if runtime.GOOS == "windows" {
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "wassette", "components"), nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find Wassette's component folder: %w", err)
		}
		return filepath.Join(home, "AppData", "Roaming", "wassette", "components"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "wassette", "components"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find Wassette's component folder: %w", err)
	}
	return filepath.Join(home, ".local", "share", "wassette", "components"), nil
}

// ImportReport says what Import did with each component it found.
type ImportReport struct {
	Imported []string        // ids now in the store
	Skipped  []ImportSkipped // components left where they were, and why
}

// ImportSkipped is one component Import did not copy.
type ImportSkipped struct {
	ID     string // the id it would have had (the file's stem)
	Path   string // its .wasm file
	Reason string
}

// Import copies the components of a Wassette component directory into the
// store: each <id>.wasm with its <id>.policy.yaml. The grants in an imported
// policy are the person's own, given to that code, so they stay granted
// (Settings.GrantsDigest is the code's digest). Wassette's metadata is not
// copied: Tapedeck derives its own, stricter, tool schemas when it first
// compiles the code. An id already in the store is skipped, never
// overwritten; so is anything that is not a component or whose policy does
// not parse. Import fails only when dir cannot be read.
func (s *Store) Import(dir string) (ImportReport, error) {
	var report ImportReport
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return report, fmt.Errorf("import from Wassette: no folder %s: give the folder Wassette's --component-dir names", dir)
		}
		return report, fmt.Errorf("import from Wassette: %w", err)
	}
	for _, e := range entries {
		id, isWasm := strings.CutSuffix(e.Name(), wasmSuffix)
		if !isWasm || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if reason := s.importOne(dir, id, path); reason != "" {
			report.Skipped = append(report.Skipped, ImportSkipped{ID: id, Path: path, Reason: reason})
			continue
		}
		report.Imported = append(report.Imported, id)
	}
	sort.Strings(report.Imported)
	return report, nil
}

// importOne copies one component, returning why it did not, or "".
func (s *Store) importOne(dir, id, path string) string {
	if err := ValidateID(id); err != nil {
		return err.Error()
	}
	wasm, err := readCapped(path, DefaultMaxBytes)
	if err != nil {
		return err.Error()
	}
	if err := checkComponent(path, wasm); err != nil {
		return err.Error()
	}
	pol, err := os.ReadFile(filepath.Join(dir, id+policySuffix))
	if errors.Is(err, fs.ErrNotExist) {
		pol = nil
	} else if err != nil {
		return "read its policy: " + err.Error()
	} else if _, err := policy.Parse(pol); err != nil {
		return "its policy does not parse (" + err.Error() + "): fix it in Wassette's folder and import again"
	}
	digest := digestOf(wasm)
	err = s.put(id, Entry{Wasm: wasm, Policy: pol, Settings: Settings{Source: path, GrantsDigest: digest}}, true)
	if errors.Is(err, errExists) {
		return "Tapedeck already has a component " + id + ": remove it first to import Wassette's"
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
