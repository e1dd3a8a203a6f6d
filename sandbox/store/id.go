package store

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// MaxIDLength is the longest component id accepted. It keeps every file name
// of an id ("<id>.metadata.json") well inside the 255-byte limit of common
// file systems.
const MaxIDLength = 128

// ValidateID reports whether id can name a component: 1 to [MaxIDLength]
// characters from [A-Za-z0-9._-], starting with a letter or digit, with no
// "..". Ids become file names, so anything that could leave the component
// directory or hide a file is refused.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("component id is empty")
	case len(id) > MaxIDLength:
		return fmt.Errorf("component id %.40q… is %d characters long: the limit is %d", id, len(id), MaxIDLength)
	case !isAlnum(id[0]):
		return fmt.Errorf("component id %q must start with a letter or digit", id)
	case strings.Contains(id, ".."):
		return fmt.Errorf("component id %q must not contain \"..\"", id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("component id %q has %q at offset %d: use only letters, digits, '.', '_' and '-'", id, rune(c), i)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// IDFromURI derives the component id Wassette would give the component at
// uri: the file stem for a path, a file:// or an https:// URL, and for an
// oci:// reference the repository with every "/" replaced by "_" (so
// oci://ghcr.io/acme/tools/weather:1.0 is "acme_tools_weather"). The result
// is validated with [ValidateID].
func IDFromURI(uri string) (string, error) {
	id, err := rawIDFromURI(uri)
	if err != nil {
		return "", err
	}
	if err := ValidateID(id); err != nil {
		return "", fmt.Errorf("cannot name the component at %s: %w; load it from a file with a simpler name", uri, err)
	}
	return id, nil
}

func rawIDFromURI(uri string) (string, error) {
	scheme, rest, hasScheme := strings.Cut(uri, "://")
	if !hasScheme || isWindowsDrive(uri) {
		return stem(filepath.Base(uri)), nil
	}
	switch strings.ToLower(scheme) {
	case "oci":
		ref, err := parseOCIReference(rest)
		if err != nil {
			return "", err
		}
		return strings.ReplaceAll(ref.repository, "/", "_"), nil
	case "file", "http", "https":
		u, err := url.Parse(uri)
		if err != nil {
			return "", fmt.Errorf("parse %q: %w", uri, err)
		}
		return stem(path.Base(u.Path)), nil
	}
	return "", fmt.Errorf("unsupported scheme %q in %q: use a file path, file://, https:// or oci://", scheme, uri)
}

// stem is the base name without its last extension, as Rust's file_stem.
func stem(base string) string {
	if base == "/" || base == "." || base == "\\" {
		return ""
	}
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		return base[:i]
	}
	return base
}

// isWindowsDrive reports whether p starts like C:\ or C:/, which is a path,
// not a URL scheme.
func isWindowsDrive(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}
