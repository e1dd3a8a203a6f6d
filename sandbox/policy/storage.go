package policy

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// storagePattern is a compiled `fs://` URI. A pattern covers every path it
// names and everything below those paths, the way Wassette's preopened
// folders do: `fs:///home/me/project` covers the project's files too.
type storagePattern struct {
	segments []string // path segments; "*" and "**" are wildcards
	globstar int      // index of the "**" segment, or -1
}

// compileStorageURI checks a storage rule's URI and compiles it.
func compileStorageURI(uri string) (storagePattern, error) {
	rest, ok := strings.CutPrefix(uri, "fs://")
	if !ok {
		return storagePattern{}, fmt.Errorf("%q is not an fs:// URI (write fs:///absolute/path)", uri)
	}
	if !strings.HasPrefix(rest, "/") {
		return storagePattern{}, fmt.Errorf("%q is not an absolute path: write fs:///%s", uri, rest)
	}
	if strings.ContainsRune(rest, 0) {
		return storagePattern{}, fmt.Errorf("%q contains a NUL byte", uri)
	}
	rest = strings.TrimSuffix(rest[1:], "/")
	pat := storagePattern{globstar: -1}
	if rest == "" {
		return pat, nil // fs:/// is the whole file system
	}
	for i, seg := range strings.Split(rest, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return storagePattern{}, fmt.Errorf("%q is not a clean path (empty, . or .. segment)", uri)
		case seg == "**":
			if pat.globstar >= 0 {
				return storagePattern{}, fmt.Errorf("%q uses ** more than once", uri)
			}
			pat.globstar = i
		case strings.Contains(seg, "**"):
			return storagePattern{}, fmt.Errorf("%q: ** must be a whole path segment, not part of %q", uri, seg)
		}
		pat.segments = append(pat.segments, seg)
	}
	return pat, nil
}

// covers reports whether the pattern names p or one of p's ancestors.
// segs is the access path split into segments.
func (pat storagePattern) covers(segs []string) bool {
	if pat.globstar < 0 {
		if len(segs) < len(pat.segments) {
			return false
		}
		for i, s := range pat.segments {
			if !matchSegment(s, segs[i]) {
				return false
			}
		}
		return true
	}
	pre, post := pat.segments[:pat.globstar], pat.segments[pat.globstar+1:]
	if len(segs) < len(pre)+len(post) {
		return false
	}
	for i, s := range pre {
		if !matchSegment(s, segs[i]) {
			return false
		}
	}
	// ** takes zero or more segments; the pattern then needs to match a
	// prefix of the path ending anywhere from the shortest fit to the end.
	for end := len(pre) + len(post); end <= len(segs); end++ {
		ok := true
		for i, s := range post {
			if !matchSegment(s, segs[end-len(post)+i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// matchSegment matches one path segment against a pattern segment in which
// '*' stands for any run of characters (including none) and every other
// character stands for itself: '?', '[' and '\' have no special meaning, as
// in Wassette's patterns.
func matchSegment(pattern, name string) bool {
	// Greedy matching with backtracking to the last star: linear in practice
	// and never exponential.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

var errNotAbsoluteClean = errors.New("not an absolute, cleaned path")

// splitAccessPath turns an absolute host path into segments in slash form.
// On Windows `C:\Users\me` becomes ["C:", "Users", "me"], which is how
// `fs:///C:/Users/me` is written in a policy.
func splitAccessPath(p string) ([]string, error) {
	slashed := filepath.ToSlash(p)
	if len(slashed) >= 2 && slashed[1] == ':' && isASCIILetter(slashed[0]) {
		slashed = "/" + slashed
	}
	if !strings.HasPrefix(slashed, "/") || path.Clean(slashed) != slashed || strings.ContainsRune(slashed, 0) {
		return nil, errNotAbsoluteClean
	}
	if slashed == "/" {
		return nil, nil
	}
	return strings.Split(slashed[1:], "/"), nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// StorageURI returns the narrowest storage rule URI for a path a person
// chose to allow always: the file itself, or with folder set, the folder and
// everything in it (`dir/**`). path must be absolute and cleaned; a path
// whose name contains '*' cannot be written as a rule (the star would be a
// wildcard), so it is refused with an error: allow it once instead.
func StorageURI(path string, folder bool) (string, error) {
	segs, err := splitAccessPath(path)
	if err != nil {
		return "", fmt.Errorf("storage rule for %q: %w", path, err)
	}
	for _, s := range segs {
		if strings.Contains(s, "*") {
			return "", fmt.Errorf("storage rule for %q: a '*' in a name would be read as a wildcard; allow it once instead", path)
		}
	}
	uri := "fs:///" + strings.Join(segs, "/")
	if folder {
		if len(segs) == 0 {
			return "fs:///**", nil
		}
		uri += "/**"
	}
	return uri, nil
}
