package secrets

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces a secret value in redacted text.
const Redacted = "[redacted]"

// Redactor replaces known secret values in text with "[redacted]". It also
// knows each value's JSON-escaped form, so values inside already encoded
// JSON are caught too.
//
// The zero value knows no values and is ready to use. A Redactor is safe
// for concurrent use; values can be added while others redact.
//
// # Limits
//
// Every non-empty value is redacted, however short: a one-letter secret
// garbles the log, but a log never shows it. A value split across two
// calls, or transformed (base64, upper case), is not recognized.
type Redactor struct {
	mu       sync.RWMutex
	values   map[string]bool
	replacer *strings.Replacer // nil when values changed since it was built
}

// NewRedactor returns a Redactor that knows values.
func NewRedactor(values ...string) *Redactor {
	r := &Redactor{}
	r.Add(values...)
	return r
}

// Add teaches r more values; empty strings are ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if v == "" || r.values[v] {
			continue
		}
		if r.values == nil {
			r.values = map[string]bool{}
		}
		r.values[v] = true
		r.replacer = nil
	}
}

// String returns s with every known value replaced.
func (r *Redactor) String(s string) string {
	rep := r.current()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Bytes returns b with every known value replaced. It returns b itself when
// nothing was replaced, a new slice otherwise.
func (r *Redactor) Bytes(b []byte) []byte {
	rep := r.current()
	if rep == nil {
		return b
	}
	out := rep.Replace(string(b))
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// current returns the replacer for the known values, building it when
// values changed; nil when there are none.
func (r *Redactor) current() *strings.Replacer {
	r.mu.RLock()
	rep, n := r.replacer, len(r.values)
	r.mu.RUnlock()
	if rep != nil || n == 0 {
		return rep
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer != nil {
		return r.replacer
	}
	var patterns []string
	for v := range r.values {
		patterns = append(patterns, v)
		for _, html := range []bool{false, true} {
			if esc := jsonEscaped(v, html); esc != v && !slices.Contains(patterns, esc) {
				patterns = append(patterns, esc)
			}
		}
	}
	// strings.Replacer tries patterns in argument order at each position:
	// longest first, so a value containing another is replaced whole.
	slices.SortFunc(patterns, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(patterns))
	for _, p := range patterns {
		pairs = append(pairs, p, Redacted)
	}
	r.replacer = strings.NewReplacer(pairs...)
	return r.replacer
}

// jsonEscaped is v as it appears inside a JSON string; html says whether
// <, > and & are escaped, as json.Marshal does.
func jsonEscaped(v string, html bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	enc.Encode(v)
	out := strings.TrimSuffix(buf.String(), "\n")
	return out[1 : len(out)-1]
}
