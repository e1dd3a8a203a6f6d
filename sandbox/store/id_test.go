package store

import (
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id string
		ok bool
	}{
		{"fetch", true},
		{"microsoft_time-server-js", true},
		{"tool.v2", true},
		{"A1", true},
		{strings.Repeat("a", MaxIDLength), true},
		{"", false},
		{strings.Repeat("a", MaxIDLength+1), false},
		{".hidden", false},
		{"-flag", false},
		{"a..b", false},
		{"a/b", false},
		{`a\b`, false},
		{"a b", false},
		{"a\x00b", false},
		{"café", false},
	}
	for _, tt := range tests {
		name := strings.NewReplacer(" ", "_", "/", "_", "\x00", "NUL").Replace(tt.id)
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run("id="+name, func(t *testing.T) {
			err := ValidateID(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
		})
	}
}

func TestIDFromURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, uri, want string
	}{
		{"relative-path", "build/fetch.wasm", "fetch"},
		{"absolute-path", "/home/me/tools/weather.component.wasm", "weather.component"},
		{"no-extension", "/tmp/tool", "tool"},
		{"file-url", "file:///home/me/time-server.wasm", "time-server"},
		{"file-url-escaped", "file:///home/me/my%20tool.wasm", ""},
		{"https", "https://example.com/releases/v1/eval-py.wasm?download=1", "eval-py"},
		{"oci-tag", "oci://ghcr.io/microsoft/time-server-js:latest", "microsoft_time-server-js"},
		{"oci-digest", "oci://ghcr.io/acme/tools/weather@sha256:" + strings.Repeat("ab", 32), "acme_tools_weather"},
		{"oci-port", "oci://127.0.0.1:5000/fetch-rs:1.0", "fetch-rs"},
		{"oci-no-registry", "oci://microsoft/time:1", ""},
		{"unknown-scheme", "ftp://example.com/x.wasm", ""},
		{"dotdot-file", "/tmp/...wasm", ""},
		{"root", "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IDFromURI(tt.uri)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("IDFromURI(%q) = %q, want an error", tt.uri, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("IDFromURI(%q) = %q, %v; want %q", tt.uri, got, err, tt.want)
			}
		})
	}
}

func TestParseOCIReference(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("0f", 32)
	tests := []struct {
		name, in                          string
		registry, repository, tag, digest string
	}{
		{"tag", "ghcr.io/microsoft/fetch-rs:v1.2", "ghcr.io", "microsoft/fetch-rs", "v1.2", ""},
		{"default-tag", "ghcr.io/microsoft/fetch-rs", "ghcr.io", "microsoft/fetch-rs", "latest", ""},
		{"digest", "ghcr.io/a/b@" + digest, "ghcr.io", "a/b", "", digest},
		{"tag-and-digest", "localhost:5000/b:t@" + digest, "localhost:5000", "b", "t", digest},
		{"docker-hub", "docker.io/library/x:1", "docker.io", "library/x", "1", ""},
		{"bad-digest", "ghcr.io/a/b@sha256:abc", "", "", "", ""},
		{"uppercase-repo", "ghcr.io/A/b", "", "", "", ""},
		{"empty-component", "ghcr.io/a//b", "", "", "", ""},
		{"bad-tag", "ghcr.io/a/b:-x", "", "", "", ""},
		{"no-repo", "ghcr.io", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := parseOCIReference(tt.in)
			if tt.registry == "" {
				if err == nil {
					t.Fatalf("parseOCIReference(%q) = %+v, want an error", tt.in, ref)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.registry != tt.registry || ref.repository != tt.repository || ref.tag != tt.tag || ref.digest != tt.digest {
				t.Fatalf("parseOCIReference(%q) = %+v", tt.in, ref)
			}
			if again, err := parseOCIReference(strings.TrimPrefix(ref.String(), "oci://")); err != nil || again != ref {
				t.Fatalf("String() %q does not parse back: %+v, %v", ref.String(), again, err)
			}
		})
	}
}

// FuzzIDFromURI checks that whatever a caller (or an agent) passes as a
// source, the id derived from it is safe to use as a file name.
func FuzzIDFromURI(f *testing.F) {
	f.Fuzz(func(t *testing.T, uri string) {
		id, err := IDFromURI(uri)
		if err != nil {
			return
		}
		if err := ValidateID(id); err != nil {
			t.Fatalf("IDFromURI(%q) = %q, which ValidateID refuses: %v", uri, id, err)
		}
		if strings.ContainsAny(id, `/\`) || strings.Contains(id, "..") || id[0] == '.' {
			t.Fatalf("IDFromURI(%q) = %q could leave the component folder", uri, id)
		}
	})
}
