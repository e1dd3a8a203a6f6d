package wasi

import (
	"strings"
	"testing"
)

func TestParseAuthority(t *testing.T) {
	tests := []struct {
		name, scheme, authority string
		wantHost                string
		wantPort                uint16
		wantErr                 string // part of the error; "" for success
	}{
		{"name-default-port", "https", "API.Example.com", "api.example.com", 443, ""},
		{"name-trailing-dot", "http", "example.com.:8080", "example.com", 8080, ""},
		{"ipv4", "http", "127.0.0.1:9000", "127.0.0.1", 9000, ""},
		{"ipv6", "http", "[::1]:9000", "::1", 9000, ""},
		{"ipv6-default-port", "https", "[2001:db8::1]", "2001:db8::1", 443, ""},
		{"mapped-ipv6", "http", "[::ffff:10.0.0.1]", "::ffff:10.0.0.1", 80, ""},
		{"empty", "http", "", "", 0, "no authority"},
		{"userinfo", "http", "user:pw@example.com", "", 0, "user info"},
		{"userinfo-hiding-host", "http", "allowed.test@evil.test", "", 0, "user info"},
		{"empty-port", "http", "example.com:", "", 0, "empty port"},
		{"port-zero", "http", "example.com:0", "", 0, "port"},
		{"port-too-big", "http", "example.com:65536", "", 0, "port"},
		{"port-sign", "http", "example.com:+80", "", 0, "port"},
		{"unbracketed-ipv6", "http", "::1", "", 0, "brackets"},
		{"ipv6-zone", "http", "[fe80::1%25eth0]", "", 0, "plain IPv6"},
		{"ipv4-in-brackets", "http", "[127.0.0.1]", "", 0, "plain IPv6"},
		{"unclosed-bracket", "http", "[::1", "", 0, "unclosed"},
		{"text-after-bracket", "http", "[::1]x", "", 0, "after"},
		{"decimal-ip", "http", "2130706433", "", 0, "ends in a number"},
		{"short-ip", "http", "127.1", "", 0, "ends in a number"},
		{"hex-ip", "http", "0x7f.0.0.1", "", 0, "ends in a number"},
		{"hex-last-label", "http", "a.0x7f", "", 0, "ends in a number"},
		{"percent", "http", "exa%6dple.com", "", 0, "character"},
		{"space", "http", "example.com x", "", 0, "character"},
		{"empty-label", "http", "a..b", "", 0, "empty"},
		{"unicode", "http", "bücher.de", "", 0, "xn--"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAuthority(tt.scheme, tt.authority)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseAuthority(%q) = %+v, %v; want an error about %q", tt.authority, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.host != tt.wantHost || got.port != tt.wantPort {
				t.Fatalf("parseAuthority(%q) = %+v, %v; want %s port %d", tt.authority, got, err, tt.wantHost, tt.wantPort)
			}
		})
	}
}

func TestHostHeaderMatches(t *testing.T) {
	target, err := parseAuthority("http", "api.example.com:8080")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, header string
		want         bool
	}{
		{"same", "api.example.com:8080", true},
		{"case-and-dot", "API.example.com.:8080", true},
		{"default-port-omitted", "api.example.com", false},
		{"other-host", "other.example.com:8080", false},
		{"other-port", "api.example.com:8081", false},
		{"userinfo", "x@api.example.com:8080", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostHeaderMatches(target, tt.header); got != tt.want {
				t.Errorf("hostHeaderMatches(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
	def, _ := parseAuthority("https", "example.com")
	if !hostHeaderMatches(def, "example.com:443") || !hostHeaderMatches(def, "example.com") {
		t.Error("a Host header naming the default port explicitly, or not at all, must match an authority without one")
	}
}

// FuzzParseAuthority checks, for any authority a guest can send, that the
// parse is stable (the authority it yields parses to the same target),
// that the host holds nothing a resolver could read as something else,
// and that a Host header equal to the authority is accepted.
func FuzzParseAuthority(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:8080", "[::1]:80", "127.0.0.1", "a@b", "[::ffff:10.0.0.1]:1", "2130706433", "x.y.:65535"} {
		f.Add("http", s, s)
	}
	f.Fuzz(func(t *testing.T, scheme, authority, header string) {
		if scheme != "https" {
			scheme = "http"
		}
		got, err := parseAuthority(scheme, authority)
		if err != nil {
			return
		}
		if got.port == 0 {
			t.Fatalf("parseAuthority(%q) gave port 0", authority)
		}
		if strings.ContainsAny(got.host, "@%/?#[] \t\r\n") {
			t.Fatalf("parseAuthority(%q) gave host %q", authority, got.host)
		}
		if !got.addr.IsValid() {
			if _, err := checkHostName(got.host); err != nil {
				t.Fatalf("parseAuthority(%q) gave host %q that is not a plain name: %v", authority, got.host, err)
			}
		}
		again, err := parseAuthority(scheme, got.authority())
		if err != nil || again != got {
			t.Fatalf("authority %q → %+v → %q → %+v, %v", authority, got, got.authority(), again, err)
		}
		if !hostHeaderMatches(got, got.authority()) {
			t.Fatalf("the Host header %q does not match its own target", got.authority())
		}
		if hostHeaderMatches(got, header) {
			h, err := parseAuthority(scheme, header)
			if err != nil || h.host != got.host || h.port != got.port {
				t.Fatalf("Host %q accepted for %q, but names %+v", header, authority, h)
			}
		}
	})
}
