package jsonbridge

import (
	"strings"
	"testing"
)

// docsV1 is shaped as wit-parser's PackageMetadata writes format 1: function
// entries are objects, stability annotations appear, world exports are in
// func_exports and interface_exports, and a field this reader does not know
// (interface_export_docs, newer than format 1's first release) is present.
const docsV1 = "\x01" + `{
  "package": "local:context7@0.1.0",
  "docs": "Context7 tools.",
  "worlds": {
    "context7": {
      "docs": "The context7 world.",
      "func_exports": {"fetch": {"docs": "Fetch a URL and return its body."}},
      "funcs": {"log": {"docs": "An imported logger."}},
      "interface_exports": {"tools": {"docs": "Inline tools.", "funcs": {"run": {"docs": "Run a tool."}}}},
      "interfaces": {"helpers": {"funcs": {"help": {"docs": "Help (import or export)."}}}},
      "types": {"point": {"docs": "A point.", "items": {"x": "Across."}}},
      "interface_export_docs": {"local:context7/context7": "docs on the export statement"}
    }
  },
  "interfaces": {
    "context7": {
      "docs": "Library docs lookup.",
      "funcs": {
        "resolve-library-id": {"docs": "Resolves a package name to a Context7 library ID.", "stability": {"stable": {"since": "0.1.0"}}},
        "get-library-docs": {"docs": "Fetches docs for a library."},
        "undocumented": {"stability": {"unstable": {"feature": "x"}}}
      },
      "types": {"mode": {"docs": "A mode.", "items": {"fast": "Quick."}}}
    }
  }
}`

// docsV0 uses format 0's plain strings (and null) for functions.
const docsV0 = "\x00" + `{"worlds":{"w":{"docs":"W.","funcs":{"fetch":"Fetch (v0)."}}},"interfaces":{"api":{"funcs":{"f":"F (v0).","g":null}}}}`

func TestParsePackageDocs(t *testing.T) {
	d, err := ParsePackageDocs([]byte(docsV1))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name, got, want string
	}{
		{"package", d.Package, "local:context7@0.1.0"},
		{"packageDocs", d.Docs, "Context7 tools."},
		{"worldDocs", d.Worlds["context7"].Docs, "The context7 world."},
		{"funcExport", d.Worlds["context7"].FuncExports["fetch"], "Fetch a URL and return its body."},
		{"funcImport", d.Worlds["context7"].Funcs["log"], "An imported logger."},
		{"inlineInterfaceExport", d.Worlds["context7"].InterfaceExports["tools"].Funcs["run"], "Run a tool."},
		{"inlineInterface", d.Worlds["context7"].Interfaces["helpers"].Funcs["help"], "Help (import or export)."},
		{"worldType", d.Worlds["context7"].Types["point"].Items["x"], "Across."},
		{"interfaceDocs", d.Interfaces["context7"].Docs, "Library docs lookup."},
		{"interfaceFunc", d.Interfaces["context7"].Funcs["resolve-library-id"], "Resolves a package name to a Context7 library ID."},
		{"stabilityOnly", d.Interfaces["context7"].Funcs["undocumented"], ""},
		{"interfaceType", d.Interfaces["context7"].Types["mode"].Docs, "A mode."},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}

	t.Run("formatZero", func(t *testing.T) {
		d, err := ParsePackageDocs([]byte(docsV0))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Worlds["w"].Funcs["fetch"]; got != "Fetch (v0)." {
			t.Errorf("world func = %q", got)
		}
		if got := d.Interfaces["api"].Funcs["f"]; got != "F (v0)." {
			t.Errorf("interface func = %q", got)
		}
		if got, ok := d.Interfaces["api"].Funcs["g"]; !ok || got != "" {
			t.Errorf("null docs = %q, %v; want empty and present", got, ok)
		}
	})

	t.Run("emptyAsWitComponentWritesIt", func(t *testing.T) {
		d, err := ParsePackageDocs([]byte("\x01{}"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Worlds == nil || d.Interfaces == nil {
			t.Error("maps are nil")
		}
		if got := Description(d, "fetch"); got != "" {
			t.Errorf("Description in empty docs = %q", got)
		}
	})
}

func TestParsePackageDocsErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "package-docs section is empty"},
		{"newerVersion", "\x02{}", "version 2; Tapedeck reads versions 0 and 1"},
		{"notJSON", "\x01{", "malformed JSON"},
		{"trailing", "\x01{} {}", "data after the JSON document"},
		{"wrongShape", `` + "\x01" + `{"worlds":[]}`, "malformed JSON"},
		{"badFuncEntry", "\x01" + `{"interfaces":{"i":{"funcs":{"f":3}}}}`, "expected a string or"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePackageDocs([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePackageDocs(%q) error = %v, want it to mention %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestDescription(t *testing.T) {
	d, err := ParsePackageDocs([]byte(docsV1))
	if err != nil {
		t.Fatal(err)
	}
	v0, err := ParsePackageDocs([]byte(docsV0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		docs *PackageDocs
		path []string
		want string
	}{
		{"worldFunc", d, []string{"fetch"}, "Fetch a URL and return its body."},
		{"worldFuncV0", v0, []string{"fetch"}, "Fetch (v0)."},
		{"interfaceFunc", d, []string{"local:context7/context7@0.1.0", "resolve-library-id"}, "Resolves a package name to a Context7 library ID."},
		{"interfaceFuncNoVersion", d, []string{"local:context7/context7", "get-library-docs"}, "Fetches docs for a library."},
		{"otherPackage", d, []string{"wasi:cli/context7@0.2.0", "resolve-library-id"}, ""},
		{"inlineInterface", d, []string{"tools", "run"}, "Run a tool."},
		{"inlineInterfaceImportsOrExports", d, []string{"helpers", "help"}, "Help (import or export)."},
		{"unknownFunc", d, []string{"local:context7/context7@0.1.0", "nope"}, ""},
		{"unknownInterface", d, []string{"local:context7/other@0.1.0", "f"}, ""},
		{"nestedExportUsesInnermost", d, []string{"outer", "local:context7/context7@0.1.0", "get-library-docs"}, "Fetches docs for a library."},
		{"nilDocs", nil, []string{"fetch"}, ""},
		{"noPath", d, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Description(tt.docs, tt.path...); got != tt.want {
				t.Errorf("Description(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
