package store

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDockerCredentials(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, config, registry string
		user, pass, helper     string
		wantErr                string
	}{
		{"auth-field", `{"auths":{"ghcr.io":{"auth":"` + b64("me:tok:en") + `"}}}`, "ghcr.io", "me", "tok:en", "", ""},
		{"user-and-password", `{"auths":{"https://ghcr.io":{"username":"me","password":"pw"}}}`, "ghcr.io", "me", "pw", "", ""},
		{"docker-hub-key", `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("hub:pw") + `"}}}`, "docker.io", "hub", "pw", "", ""},
		{"other-registry", `{"auths":{"ghcr.io":{"auth":"` + b64("me:pw") + `"}}}`, "quay.io", "", "", "", ""},
		{"cred-helper", `{"auths":{"ghcr.io":{}},"credHelpers":{"ghcr.io":"pass"}}`, "ghcr.io", "", "", "docker-credential-pass", ""},
		{"creds-store", `{"credsStore":"desktop"}`, "ghcr.io", "", "", "docker-credential-desktop", ""},
		{"bad-base64", `{"auths":{"ghcr.io":{"auth":"%%%"}}}`, "ghcr.io", "", "", "", "not base64"},
		{"no-colon", `{"auths":{"ghcr.io":{"auth":"` + b64("justme") + `"}}}`, "ghcr.io", "", "", "", "not user:password"},
		{"not-json", `{`, "ghcr.io", "", "", "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadDockerCredentials(path, tt.registry)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loadDockerCredentials = %+v, %v; want an error saying %q", c, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.user == "" && tt.helper == "" {
				if c != nil {
					t.Fatalf("credentials %+v for a registry the config does not name", c)
				}
				return
			}
			if c == nil || c.username != tt.user || c.password != tt.pass || c.helper != tt.helper {
				t.Fatalf("loadDockerCredentials = %+v, want user %q pass %q helper %q", c, tt.user, tt.pass, tt.helper)
			}
		})
	}
	if c, err := loadDockerCredentials(filepath.Join(t.TempDir(), "absent.json"), "ghcr.io"); c != nil || err != nil {
		t.Errorf("a missing config = %+v, %v; want anonymous (nil, nil)", c, err)
	}
}

func TestParseChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, scheme string
		params               map[string]string
	}{
		{"bearer", `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"`, "Bearer",
			map[string]string{"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:a/b:pull"}},
		{"basic", `Basic realm="Registry Realm"`, "Basic", map[string]string{"realm": "Registry Realm"}},
		{"unquoted-and-spaces", `Bearer realm=https://x/token, service=x`, "Bearer", map[string]string{"realm": "https://x/token", "service": "x"}},
		{"escaped-quote", `Bearer realm="a\"b"`, "Bearer", map[string]string{"realm": `a"b`}},
		{"scheme-only", `Basic`, "Basic", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme, params := parseChallenge(tt.header)
			if scheme != tt.scheme || len(params) != len(tt.params) {
				t.Fatalf("parseChallenge(%q) = %q %v, want %q %v", tt.header, scheme, params, tt.scheme, tt.params)
			}
			for k, v := range tt.params {
				if params[k] != v {
					t.Errorf("%s = %q, want %q", k, params[k], v)
				}
			}
		})
	}
}

// FuzzParseChallenge feeds WWW-Authenticate headers, which come from the
// registry (untrusted), to the parser: it must not panic or loop.
func FuzzParseChallenge(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		scheme, params := parseChallenge(header)
		if strings.ContainsAny(scheme, " ") {
			t.Fatalf("scheme %q holds a space", scheme)
		}
		for k := range params {
			if k != strings.ToLower(k) {
				t.Fatalf("parameter name %q is not lowercased", k)
			}
		}
	})
}
