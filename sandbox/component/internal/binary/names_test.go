package binary

import "testing"

func TestParseExternName(t *testing.T) {
	tests := []struct {
		name    string
		want    externName
		wantErr string
	}{
		{name: "a", want: externName{}},
		{name: "a1-2-3", want: externName{}},
		{name: "A-B-C", want: externName{}},
		{name: "a11-B11-123-ABC-abc", want: externName{}},
		{name: "m1x3d-4CR0NYMS", want: externName{}},
		{name: "[constructor]r", want: externName{annotation: annConstructor, resource: "r"}},
		{name: "[method]output-stream.write", want: externName{annotation: annMethod, resource: "output-stream"}},
		{name: "[static]r.make", want: externName{annotation: annStatic, resource: "r"}},
		{name: "wasi:io/streams", want: externName{iface: true}},
		{name: "wasi:io/streams@0.2.3", want: externName{iface: true}},
		{name: "ns-1-a:b-1-c/D-2", want: externName{iface: true}},
		{name: "a:b/c@0.0.0-abcd.1.2+efg.4.ee.5", want: externName{iface: true}},
		{name: "", wantErr: "`` is not in kebab case"},
		{name: "1", wantErr: "`1` is not in kebab case"},
		{name: "a-", wantErr: "`a-` is not in kebab case"},
		{name: "a--b", wantErr: "`a--b` is not in kebab case"},
		{name: "aBc", wantErr: "`aBc` is not in kebab case"},
		{name: "a_b", wantErr: "`a_b` is not in kebab case"},
		{name: "[method]r", wantErr: `"[method]r" has no ` + "`.`" + ` between the resource and function names`},
		{name: "[method]r.", wantErr: "`` is not in kebab case"},
		{name: "[constructor]", wantErr: "`` is not in kebab case"},
		{name: "[ctor]r", wantErr: "`[ctor]r` is not in kebab case"},
		{name: "wasi/http", wantErr: "`wasi/http` is not in kebab case"},
		{name: "WaSi:http/types", wantErr: `"WaSi:http/types" is not a valid extern name: ` + "`WaSi` is not in kebab case"},
		{name: "A:b/c", wantErr: `"A:b/c" is not a valid extern name: ` + "`A` is not in kebab case"},
		{name: "wasi:/", wantErr: `"wasi:/" is not a valid extern name: ` + "`` is not in kebab case"},
		{name: "a:b/c@", wantErr: `"a:b/c@" is not a valid extern name: version: empty string`},
		{name: "a:b/c@1.", wantErr: `"a:b/c@1." is not a valid extern name: version: "1." is not MAJOR.MINOR.PATCH`},
		{name: "a:b/c@01.0.0", wantErr: `"a:b/c@01.0.0" is not a valid extern name: version: "01.0.0" has a leading zero`},
		{name: "a:b/c@2.0.0+", wantErr: `"a:b/c@2.0.0+" is not a valid extern name: version: empty identifier segment in "2.0.0+"`},
		{name: "a:b/c@2.0.0-a_b", wantErr: `"a:b/c@2.0.0-a_b" is not a valid extern name: version: unexpected character '_' in "2.0.0-a_b"`},
		{name: "foo:bar/baz/qux", wantErr: `"foo:bar/baz/qux" is not a valid extern name: nested namespaces and packages are not supported`},
		{name: "foo:bar", wantErr: `"foo:bar" is not a valid extern name: expected ` + "`/`" + ` after package name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExternName(tt.name)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parseExternName(%q) error = %v, want %s", tt.name, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseExternName(%q): %v", tt.name, err)
			}
			if got != tt.want {
				t.Errorf("parseExternName(%q) = %+v, want %+v", tt.name, got, tt.want)
			}
		})
	}
}

// TestNameSet follows the examples of Explainer.md, "Name Uniqueness".
func TestNameSet(t *testing.T) {
	unique := []string{"foo", "foo-bar", "[constructor]foo", "[method]foo.bar", "[static]foo.baz", "foo:bar/baz"}
	conflicting := []string{"foo", "FOO", "foo-BAR", "[constructor]FOO", "[method]foo.BAR", "[static]foo.bar",
		"[method]foo.baz", "[method]foo.foo", "[static]foo-BAR.FOO-bar", "foo:bar/BAZ"}
	s := nameSet{}
	for _, n := range unique {
		if err := s.add(n); err != nil {
			t.Fatalf("add(%q): %v", n, err)
		}
	}
	for _, n := range conflicting {
		t.Run(n, func(t *testing.T) {
			if err := s.add(n); err == nil {
				t.Errorf("add(%q) succeeded; it conflicts with one of %q", n, unique)
			}
		})
	}
	versions := nameSet{}
	for _, n := range []string{"wasi:http/types", "wasi:http/types@1.0.0", "wasi:http/types@2.0.0"} {
		if err := versions.add(n); err != nil {
			t.Errorf("add(%q): %v (versions of one interface may coexist)", n, err)
		}
	}
}
