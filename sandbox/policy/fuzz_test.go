package policy

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, and a
// policy it accepts must survive Marshal: the marshalled text parses to the
// same policy, and marshalling that again gives the same text.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fullPolicy))
	f.Add([]byte("version: \"1.0\"\npermissions: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		once, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted policy failed: %v", err)
		}
		q, err := Parse(once)
		if err != nil {
			t.Fatalf("marshalled policy does not parse: %v\n--- input\n%q\n--- marshalled\n%s", err, data, once)
		}
		if !samePolicy(p, q) {
			t.Fatalf("marshalled policy means something else\n--- input\n%q\n--- marshalled\n%s", data, once)
		}
		twice, err := q.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("Marshal is not stable\n--- once\n%s\n--- twice\n%s", once, twice)
		}

		// Edits on whatever shape the file has must still give a file that
		// reads back with the edit in it.
		if err := firstErr(
			p.AddStorage(AllowList, "fs:///fuzz/**", Read),
			p.AddNetwork(DenyList, "fuzz.example.com"),
			p.AddEnvironment(AllowList, "FUZZ"),
		); err != nil {
			t.Fatalf("edit failed: %v\n--- input\n%q", err, data)
		}
		edited, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(edited)
		if err != nil {
			t.Fatalf("edited policy does not parse: %v\n--- input\n%q\n--- edited\n%s", err, data, edited)
		}
		if !samePolicy(p, r) {
			t.Fatalf("edited policy reads back differently\n--- input\n%q\n--- edited\n%s", data, edited)
		}
		for _, a := range []Access{Storage{Path: "/fuzz/x"}, Network{Scheme: "https", Host: "fuzz.example.com", Port: 443}, Env{Key: "FUZZ"}} {
			if p.Decide(a, Protected{}) != r.Decide(a, Protected{}) {
				t.Fatalf("%s decided differently after a round trip", a)
			}
		}
	})
}

func samePolicy(a, b *Policy) bool {
	return a.Version() == b.Version() && a.Description() == b.Description() &&
		reflect.DeepEqual(a.Permissions(), b.Permissions()) && a.Limits() == b.Limits()
}

// FuzzMatchHost compiles a host rule and matches an access against it.
// Besides never panicking: a deny rule reads at least as broadly as the
// same rule allowing (for a known port), and the narrowest rule written for
// an access allows that access.
func FuzzMatchHost(f *testing.F) {
	f.Add("api.example.com", "https", "api.example.com", uint16(443))
	f.Add("*.example.org", "https", "a.b.example.org", uint16(443))
	f.Add("https://rss.nytimes.com/", "http", "rss.nytimes.com", uint16(80))
	f.Add("[2001:db8::1]:8080", "http", "2001:db8::1", uint16(8080))
	f.Add("tcp://db.example.net:5432", "tcp", "db.example.net", uint16(0))
	f.Add("tcp-listen://127.0.0.1:7000", "tcp", "127.0.0.1", uint16(7000))
	f.Add("127.0.0.1", "http", "::ffff:127.0.0.1", uint16(80))
	f.Fuzz(func(t *testing.T, rule, scheme, host string, port uint16) {
		h, hostErr := parseAccessHost(host)
		if allow, err := compileHost(rule, false); err == nil && hostErr == nil {
			deny, err := compileHost(rule, true)
			if err != nil {
				t.Fatalf("%q compiles as an allow rule but not as a deny rule: %v", rule, err)
			}
			if port != 0 && allow.matches(scheme, h, port, false) && !deny.matches(scheme, h, port, true) {
				t.Fatalf("%q allows %s://%s:%d but does not deny it", rule, scheme, host, port)
			}
		}
		a := Network{Scheme: scheme, Host: host, Port: port}
		narrow, err := NetworkHost(a)
		if err != nil {
			return
		}
		pat, err := compileHost(narrow, false)
		if err != nil {
			t.Fatalf("NetworkHost(%s) = %q, which does not compile: %v", a, narrow, err)
		}
		if !pat.matches(strings.ToLower(scheme), h, port, false) {
			t.Fatalf("NetworkHost(%s) = %q, which does not allow it", a, narrow)
		}
	})
}

// FuzzMatchPath compiles a storage URI and matches a path against it,
// checking wildcard-free patterns against a plain prefix test, segments
// against a regular expression, and that StorageURI's rules cover their
// path.
func FuzzMatchPath(f *testing.F) {
	f.Add("fs:///home/me/project/**", "/home/me/project/src/main.go")
	f.Add("fs:///**/.git", "/a/b/.git/config")
	f.Add("fs:///srv/*/logs", "/srv/web/logs")
	f.Add("fs:///data/*.csv", "/data/q1.csv")
	f.Add("fs:///", "/")
	f.Add("fs:///opt/**/bin", "/opt/bin")
	f.Fuzz(func(t *testing.T, uri, path string) {
		segs, pathErr := splitAccessPath(path)
		if pat, err := compileStorageURI(uri); err == nil && pathErr == nil {
			got := pat.covers(segs)
			if !strings.Contains(uri, "*") {
				base := "/" + strings.Join(pat.segments, "/")
				want := base == "/" || path == base || strings.HasPrefix(path, base+"/")
				if got != want {
					t.Fatalf("%q covers %q = %v, want %v", uri, path, got, want)
				}
			}
		}
		if pathErr != nil {
			return
		}
		for _, seg := range segs {
			// Compare one segment against a regular expression built from
			// the path's own first segment used as a pattern. Regular
			// expressions work on UTF-8 and file names need not be: the
			// oracle only judges valid text.
			if !utf8.ValidString(path) {
				break
			}
			pattern := strings.ReplaceAll(seg, "a", "*")
			re := regexp.MustCompile("^(?s)" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$")
			for _, name := range segs {
				if got, want := matchSegment(pattern, name), re.MatchString(name); got != want {
					t.Fatalf("matchSegment(%q, %q) = %v, regexp says %v", pattern, name, got, want)
				}
			}
			break
		}
		for _, folder := range []bool{false, true} {
			rule, err := StorageURI(path, folder)
			if err != nil {
				continue
			}
			pat, err := compileStorageURI(rule)
			if err != nil {
				t.Fatalf("StorageURI(%q) = %q, which does not compile: %v", path, rule, err)
			}
			if !pat.covers(segs) {
				t.Fatalf("StorageURI(%q) = %q, which does not cover it", path, rule)
			}
		}
	})
}
