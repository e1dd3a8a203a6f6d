package binary

import (
	"fmt"
	"strings"
)

// annotation is the bracketed prefix of a plain name.
type annotation uint8

const (
	annNone annotation = iota
	annConstructor
	annMethod
	annStatic
)

// externName is a parsed import or export name.
type externName struct {
	annotation annotation
	// resource is the resource label of an annotated name ("r" in "[method]r.m").
	resource string
	// iface reports an interface name (ns:pkg/iface@version).
	iface bool
}

// parseExternName checks name against the externname grammar of
// Explainer.md ("Import and Export Definitions").
func parseExternName(name string) (externName, error) {
	var n externName
	switch {
	case strings.HasPrefix(name, "[constructor]"):
		n.annotation = annConstructor
		n.resource = name[len("[constructor]"):]
		return n, checkLabel(n.resource)
	case strings.HasPrefix(name, "[method]"), strings.HasPrefix(name, "[static]"):
		n.annotation = annMethod
		if name[1] == 's' {
			n.annotation = annStatic
		}
		rest := name[strings.IndexByte(name, ']')+1:]
		res, fn, ok := strings.Cut(rest, ".")
		if !ok {
			return n, fmt.Errorf("%q has no `.` between the resource and function names", name)
		}
		if err := checkLabel(res); err != nil {
			return n, err
		}
		n.resource = res
		return n, checkLabel(fn)
	case strings.ContainsAny(name, ":/@"):
		n.iface = true
		return n, checkInterfaceName(name)
	}
	return n, checkLabel(name)
}

// checkLabel checks kebab case: words of lowercase letters and digits, or of
// uppercase letters and digits, joined by '-', the first starting with a letter.
func checkLabel(s string) error {
	if s == "" {
		return fmt.Errorf("`` is not in kebab case")
	}
	for i, w := range strings.Split(s, "-") {
		if !isKebabWord(w, i == 0) {
			return fmt.Errorf("`%s` is not in kebab case", s)
		}
	}
	return nil
}

func isKebabWord(w string, first bool) bool {
	if w == "" {
		return false
	}
	if first && !isLetter(w[0]) {
		return false
	}
	lower, upper := false, false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return !(lower && upper)
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// checkWords checks the `words` production: lowercase kebab words.
func checkWords(s string) error {
	if s == "" {
		return fmt.Errorf("`` is not in kebab case")
	}
	for i, w := range strings.Split(s, "-") {
		if !isKebabWord(w, i == 0) || strings.ToLower(w) != w {
			return fmt.Errorf("`%s` is not in kebab case", s)
		}
	}
	return nil
}

// checkInterfaceName checks ns:pkg/iface with an optional @semver.
func checkInterfaceName(name string) error {
	ns, rest, ok := strings.Cut(name, ":")
	if !ok {
		return fmt.Errorf("`%s` is not in kebab case", name)
	}
	if err := checkWords(ns); err != nil {
		return fmt.Errorf("%q is not a valid extern name: %w", name, err)
	}
	pkg, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return fmt.Errorf("%q is not a valid extern name: expected `/` after package name", name)
	}
	if err := checkWords(pkg); err != nil {
		return fmt.Errorf("%q is not a valid extern name: %w", name, err)
	}
	iface, version, hasVersion := strings.Cut(rest, "@")
	if strings.ContainsAny(iface, ":/") {
		return fmt.Errorf("%q is not a valid extern name: nested namespaces and packages are not supported", name)
	}
	if err := checkLabel(iface); err != nil {
		return fmt.Errorf("%q is not a valid extern name: %w", name, err)
	}
	if hasVersion {
		if err := checkSemver(version); err != nil {
			return fmt.Errorf("%q is not a valid extern name: version: %w", name, err)
		}
	}
	return nil
}

// checkSemver checks a Semantic Versioning 2.0 version.
func checkSemver(v string) error {
	if v == "" {
		return fmt.Errorf("empty string")
	}
	core, build, hasBuild := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%q is not MAJOR.MINOR.PATCH", v)
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return fmt.Errorf("%q is not MAJOR.MINOR.PATCH", v)
		}
		if len(p) > 1 && p[0] == '0' {
			return fmt.Errorf("%q has a leading zero", v)
		}
	}
	for _, ids := range []struct {
		s   string
		has bool
	}{{pre, hasPre}, {build, hasBuild}} {
		if !ids.has {
			continue
		}
		for _, id := range strings.Split(ids.s, ".") {
			if id == "" {
				return fmt.Errorf("empty identifier segment in %q", v)
			}
			for i := 0; i < len(id); i++ {
				c := id[i]
				if !isLetter(c) && !(c >= '0' && c <= '9') && c != '-' {
					return fmt.Errorf("unexpected character %q in %q", c, v)
				}
			}
		}
	}
	return nil
}

// uniqueKey is the canonical form under which two names conflict
// (Explainer.md, "Name Uniqueness"): lowercased, "[method]l.l" and
// "[static]l.l" become "l", other annotations except [constructor] dropped.
func uniqueKey(name string) string {
	k := strings.ToLower(name)
	for _, p := range []string{"[method]", "[static]"} {
		if strings.HasPrefix(k, p) {
			k = k[len(p):]
			if res, fn, ok := strings.Cut(k, "."); ok && res == fn {
				k = res
			}
		}
	}
	return k
}

// nameSet checks strong uniqueness of names within one scope.
type nameSet map[string]string

// add records name; it fails when name conflicts with an earlier one.
func (s nameSet) add(name string) error {
	k := uniqueKey(name)
	if prev, ok := s[k]; ok {
		if prev == name {
			return fmt.Errorf("name %q conflicts with previous name %q (a duplicate)", name, prev)
		}
		return fmt.Errorf("name %q conflicts with previous name %q (names must differ in more than case and annotations)", name, prev)
	}
	s[k] = name
	return nil
}
