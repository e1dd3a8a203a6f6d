package policy

import (
	"net/netip"
	"testing"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecideStorage(t *testing.T) {
	p := mustParse(t, `version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///home/me/project/**"
        access: [read, write]
      - uri: "fs:///home/me/notes"
        access: [read]
      - uri: "fs:///srv/*/logs"
        access: [read]
      - uri: "fs:///data/*.csv"
        access: [read]
      - uri: "fs:///opt/**/bin"
        access: [read]
      - uri: "fs:///drop"
        access: [write]
    deny:
      - uri: "fs:///home/me/project/.git/**"
        access: [write]
      - uri: "fs:///**/.ssh"
        access: [read, write]
`)
	tests := []struct {
		name  string
		path  string
		write bool
		want  Verdict
		rule  string
	}{
		{"GlobstarCoversFolderItself", "/home/me/project", false, Allow, "permissions.storage.allow[0]"},
		{"GlobstarCoversDeepFile", "/home/me/project/src/a/b.go", true, Allow, "permissions.storage.allow[0]"},
		{"DenyWinsForWrite", "/home/me/project/.git/config", true, Deny, "permissions.storage.deny[0]"},
		{"DenyForWriteLeavesRead", "/home/me/project/.git/config", false, Allow, "permissions.storage.allow[0]"},
		{"DenyGlobstarPrefix", "/home/me/project/.ssh/id_ed25519", false, Deny, "permissions.storage.deny[1]"},
		{"DenyGlobstarAtRoot", "/.ssh", false, Deny, "permissions.storage.deny[1]"},
		{"PlainPathCoversBelow", "/home/me/notes/todo.md", false, Allow, "permissions.storage.allow[1]"},
		{"ReadGrantIsNotWrite", "/home/me/notes/todo.md", true, Ask, ""},
		{"WriteGrantIsNotRead", "/drop/file", false, Ask, ""},
		{"WriteGrant", "/drop/file", true, Allow, "permissions.storage.allow[5]"},
		{"SiblingWithSamePrefix", "/home/me/notes2", false, Ask, ""},
		{"ParentOfGrant", "/home/me", false, Ask, ""},
		{"StarOneSegment", "/srv/web/logs/access.log", false, Allow, "permissions.storage.allow[2]"},
		{"StarNotTwoSegments", "/srv/web/x/logs", false, Ask, ""},
		{"StarNotEmptySegment", "/srv/logs", false, Ask, ""},
		{"StarInSegment", "/data/q1.csv", false, Allow, "permissions.storage.allow[3]"},
		{"StarInSegmentNoMatch", "/data/q1.tsv", false, Ask, ""},
		{"GlobstarZeroSegments", "/opt/bin/tool", false, Allow, "permissions.storage.allow[4]"},
		{"GlobstarManySegments", "/opt/a/b/c/bin", false, Allow, "permissions.storage.allow[4]"},
		{"GlobstarNeedsSuffix", "/opt/a/b", false, Ask, ""},
		{"RelativePathDenied", "home/me/project", false, Deny, ""},
		{"UncleanPathDenied", "/home/me/project/../../etc/passwd", false, Deny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(Storage{Path: tt.path, Write: tt.write}, Protected{})
			if d.Verdict != tt.want || d.Rule != tt.rule {
				t.Errorf("Decide(%s write=%v) = %v (%s), want %v by %q", tt.path, tt.write, d.Verdict, d, tt.want, tt.rule)
			}
		})
	}
}

func TestProtectedFoldersStayRefused(t *testing.T) {
	p := mustParse(t, `version: "1.0"
permissions:
  storage:
    allow:
      - uri: "fs:///**"
        access: [read, write]
`)
	own, err := NewProtected("/home/me/.local/share/tapedeck", "/home/me/.cache/tapedeck/", "/run/user/1000/tapedeck/token")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want Verdict
	}{
		{"DataDirItself", "/home/me/.local/share/tapedeck", Deny},
		{"InsideDataDir", "/home/me/.local/share/tapedeck/components/x.wasm", Deny},
		{"CacheWithTrailingSlashInSet", "/home/me/.cache/tapedeck/wazero/abc", Deny},
		{"TokenFile", "/run/user/1000/tapedeck/token", Deny},
		{"ParentIsGranted", "/home/me/.local/share", Allow},
		{"SiblingWithSamePrefix", "/home/me/.local/share/tapedeck2/x", Allow},
		{"Elsewhere", "/tmp/x", Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, write := range []bool{false, true} {
				d := p.Decide(Storage{Path: tt.path, Write: write}, own)
				if d.Verdict != tt.want {
					t.Errorf("Decide(%s write=%v) = %s, want %v", tt.path, write, d, tt.want)
				}
			}
		})
	}
	if _, err := NewProtected("relative/dir"); err == nil {
		t.Error("NewProtected accepted a relative path")
	}
	if _, covered := own.Covers("not/absolute"); !covered {
		t.Error("Covers of a relative path did not fail closed")
	}
}

func TestDecideNetwork(t *testing.T) {
	p := mustParse(t, `version: "1.0"
permissions:
  network:
    allow:
      - host: "api.example.com"
      - host: "*.example.org"
      - host: "https://rss.nytimes.com/"
      - host: "alt.example.com:8443"
      - host: "http://127.0.0.1:8080"
      - host: "tcp://db.example.net:5432"
      - cidr: "203.0.113.0/24"
      - cidr: "10.1.0.0/16"
      - cidr: "::ffff:192.168.7.0/120"
      - host: "[2001:db8::1]:9000"
      - host: "Upper.Example.COM."
      - host: "secret.example.org"
      - host: "tcp-listen://127.0.0.1:7000"
      - host: "udp-listen://0.0.0.0:5353"
    deny:
      - host: "internal.example.org"
      - host: "*.corp.example.org"
      - cidr: "203.0.113.128/25"
      - host: "https://api.example.com:9999"
`)
	tests := []struct {
		name   string
		scheme string
		host   string
		port   uint16
		want   Verdict
		rule   string
	}{
		{"ExactHTTPS", "https", "api.example.com", 443, Allow, "permissions.network.allow[0]"},
		{"ExactHTTP", "http", "api.example.com", 80, Allow, "permissions.network.allow[0]"},
		{"ExactCaseAndTrailingDot", "https", "API.Example.com.", 443, Allow, "permissions.network.allow[0]"},
		{"RuleCaseAndTrailingDot", "https", "upper.example.com", 443, Allow, "permissions.network.allow[10]"},
		{"NoPortRuleIsDefaultPortOnly", "https", "api.example.com", 8443, Ask, ""},
		{"HTTPSOnHTTPPortNotDefault", "https", "api.example.com", 80, Ask, ""},
		{"NoSchemeRuleIsNotRawTCP", "tcp", "api.example.com", 443, Ask, ""},
		{"SubdomainIsNotExact", "https", "www.api.example.com", 443, Ask, ""},
		{"WildcardSubdomain", "https", "www.example.org", 443, Allow, "permissions.network.allow[1]"},
		{"WildcardDeepSubdomain", "https", "a.b.example.org", 443, Allow, "permissions.network.allow[1]"},
		{"WildcardNotApex", "https", "example.org", 443, Ask, ""},
		{"WildcardNotLookalike", "https", "badexample.org", 443, Ask, ""},
		{"DenyWinsOverWildcard", "https", "internal.example.org", 443, Deny, "permissions.network.deny[0]"},
		{"DenyWildcard", "https", "x.corp.example.org", 443, Deny, "permissions.network.deny[1]"},
		{"DenyNoPortCoversEveryPort", "http", "internal.example.org", 1234, Deny, "permissions.network.deny[0]"},
		{"DenyNoSchemeCoversTCP", "tcp", "internal.example.org", 22, Deny, "permissions.network.deny[0]"},
		{"DenyWithPortOnlyThatPort", "https", "api.example.com", 9999, Deny, "permissions.network.deny[3]"},
		{"FirstMatchingAllowIsNamed", "https", "secret.example.org", 443, Allow, "permissions.network.allow[1]"},
		{"SchemePinHTTPS", "https", "rss.nytimes.com", 443, Allow, "permissions.network.allow[2]"},
		{"SchemePinRefusesHTTP", "http", "rss.nytimes.com", 80, Ask, ""},
		{"PortRuleBothSchemes", "http", "alt.example.com", 8443, Allow, "permissions.network.allow[3]"},
		{"PortRuleOnlyThatPort", "https", "alt.example.com", 443, Ask, ""},
		{"LoopbackNamedWithPort", "http", "127.0.0.1", 8080, Allow, "permissions.network.allow[4]"},
		{"LoopbackOtherPortRefused", "http", "127.0.0.1", 8081, Deny, ""},
		{"LoopbackMappedNamed", "http", "::ffff:127.0.0.1", 8080, Allow, "permissions.network.allow[4]"},
		{"TCPRule", "tcp", "db.example.net", 5432, Allow, "permissions.network.allow[5]"},
		{"TCPRuleOtherPort", "tcp", "db.example.net", 5433, Ask, ""},
		{"TCPRuleNotHTTP", "http", "db.example.net", 5432, Ask, ""},
		{"LookupBeforeConnect", "tcp", "db.example.net", 0, Allow, "permissions.network.allow[5]"},
		{"LookupIgnoresPortedDeny", "https", "api.example.com", 0, Allow, "permissions.network.allow[0]"},
		{"LookupHitsPortlessDeny", "tcp", "internal.example.org", 0, Deny, "permissions.network.deny[0]"},
		{"CIDR", "https", "203.0.113.5", 443, Allow, "permissions.network.allow[6]"},
		{"CIDRDenyWins", "https", "203.0.113.200", 443, Deny, "permissions.network.deny[2]"},
		{"CIDRMappedAccess", "https", "::ffff:203.0.113.5", 443, Allow, "permissions.network.allow[6]"},
		{"CIDRBracketedMapped", "https", "[::ffff:203.0.113.5]", 443, Allow, "permissions.network.allow[6]"},
		{"CIDRNotName", "https", "203.0.113.5.nip.io", 443, Ask, ""},
		{"PrivateCIDRNamed", "https", "10.1.2.3", 443, Allow, "permissions.network.allow[7]"},
		{"PrivateNotNamed", "https", "10.2.0.1", 443, Deny, ""},
		{"MappedCIDRRuleMatchesV4", "https", "192.168.7.9", 443, Allow, "permissions.network.allow[8]"},
		{"MappedCIDRRuleMatchesMapped", "https", "::ffff:192.168.7.9", 443, Allow, "permissions.network.allow[8]"},
		{"IPv6LiteralWithPort", "http", "2001:db8::1", 9000, Allow, "permissions.network.allow[9]"},
		{"IPv6LiteralZoneDropped", "http", "2001:db8::1%eth0", 9000, Allow, "permissions.network.allow[9]"},
		{"PublicIPNotNamedAsks", "https", "198.51.100.7", 443, Ask, ""},
		{"TCPListenRule", "tcp-listen", "127.0.0.1", 7000, Allow, "permissions.network.allow[12]"},
		{"TCPListenOtherPortRefused", "tcp-listen", "127.0.0.1", 7001, Deny, ""},
		{"TCPListenIsNotConnect", "tcp", "127.0.0.1", 7000, Deny, ""},
		{"TCPConnectRuleIsNotListen", "tcp-listen", "db.example.net", 5432, Ask, ""},
		{"UDPListenRule", "udp-listen", "0.0.0.0", 5353, Allow, "permissions.network.allow[13]"},
		{"UDPListenIsNotTCPListen", "tcp-listen", "0.0.0.0", 5353, Deny, ""},
		{"NoSchemeRuleIsNotListen", "tcp-listen", "api.example.com", 443, Ask, ""},
		{"DenyNoSchemeCoversListen", "udp-listen", "internal.example.org", 53, Deny, "permissions.network.deny[0]"},
		{"InvalidHostDenied", "https", "exa mple.com", 443, Deny, ""},
		{"EmptyHostDenied", "https", "", 443, Deny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Network{Scheme: tt.scheme, Host: tt.host, Port: tt.port}
			d := p.Decide(a, Protected{})
			if d.Verdict != tt.want || d.Rule != tt.rule {
				t.Errorf("Decide(%s) = %v (%s), want %v by %q", a, d.Verdict, d, tt.want, tt.rule)
			}
		})
	}
}

func TestDecideEnvironmentAndConfig(t *testing.T) {
	p := mustParse(t, `version: "1.0"
permissions:
  environment:
    allow: [{key: API_KEY}, {key: TOKEN}]
    deny: [{key: TOKEN}]
`)
	tests := []struct {
		name   string
		access Access
		want   Verdict
		rule   string
	}{
		{"EnvAllowed", Env{Key: "API_KEY"}, Allow, "permissions.environment.allow[0]"},
		{"EnvCaseMatters", Env{Key: "api_key"}, Ask, ""},
		{"EnvDenyWins", Env{Key: "TOKEN"}, Deny, "permissions.environment.deny[0]"},
		{"EnvUnlisted", Env{Key: "HOME"}, Ask, ""},
		{"ConfigFollowsEnvironment", Config{Key: "API_KEY"}, Allow, "permissions.environment.allow[0]"},
		{"ConfigDenied", Config{Key: "TOKEN"}, Deny, "permissions.environment.deny[0]"},
		{"ConfigUnlisted", Config{Key: "region"}, Ask, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.access, Protected{})
			if d.Verdict != tt.want || d.Rule != tt.rule {
				t.Errorf("Decide(%s) = %v (%s), want %v by %q", tt.access, d.Verdict, d, tt.want, tt.rule)
			}
		})
	}
}

func TestNilPolicyAsks(t *testing.T) {
	var p *Policy
	for _, a := range []Access{Storage{Path: "/tmp"}, Network{Scheme: "https", Host: "a.com", Port: 443}, Env{Key: "X"}, Config{Key: "X"}} {
		if d := p.Decide(a, Protected{}); d.Verdict != Ask {
			t.Errorf("nil policy decided %s: %v", a, d)
		}
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		name string
		d    Decision
		want string
	}{
		{"ByRule", Decision{Verdict: Deny, Rule: "permissions.network.deny[0]", Pattern: "internal.example.com"}, "denied by permissions.network.deny[0] (internal.example.com)"},
		{"AllowedByRule", Decision{Verdict: Allow, Rule: "permissions.environment.allow[1]", Pattern: "KEY"}, "allowed by permissions.environment.allow[1] (KEY)"},
		{"ByReason", Decision{Verdict: Deny, Reason: "a reason"}, "denied: a reason"},
		{"Ask", Decision{Verdict: Ask}, "no rule in the policy names it"},
		{"ZeroIsDeny", Decision{}, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecideAddress(t *testing.T) {
	p := mustParse(t, `version: "1.0"
permissions:
  network:
    allow:
      - host: "localhost"
      - host: "http://127.0.0.1:8080"
      - host: "intranet.example.com"
      - cidr: "10.20.0.0/16"
    deny:
      - cidr: "198.51.100.0/24"
`)
	tests := []struct {
		name   string
		scheme string
		ip     string
		port   uint16
		want   Verdict
		rule   string
	}{
		{"PublicAllowed", "https", "93.184.215.14", 443, Allow, ""},
		{"PublicDeniedByCIDR", "https", "198.51.100.9", 443, Deny, "permissions.network.deny[0]"},
		{"PublicMappedDeniedByCIDR", "https", "::ffff:198.51.100.9", 443, Deny, "permissions.network.deny[0]"},
		{"HostnameRuleDoesNotAllowLoopback", "http", "127.0.0.1", 80, Deny, ""},
		{"LoopbackNamedWithPort", "http", "127.0.0.1", 8080, Allow, "permissions.network.allow[1]"},
		{"LoopbackNamedOtherPort", "http", "127.0.0.1", 8081, Deny, ""},
		{"PrivateNamedByCIDR", "https", "10.20.3.4", 443, Allow, "permissions.network.allow[3]"},
		{"PrivateMappedNamedByCIDR", "https", "::ffff:10.20.3.4", 443, Allow, "permissions.network.allow[3]"},
		{"PrivateNotNamed", "https", "10.21.0.1", 443, Deny, ""},
		{"MetadataRefused", "http", "169.254.169.254", 80, Deny, ""},
		{"MappedMetadataRefused", "http", "::ffff:169.254.169.254", 80, Deny, ""},
		{"IPv6LoopbackRefused", "https", "::1", 443, Deny, ""},
		{"ULARefused", "https", "fd00::1", 443, Deny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.DecideAddress(tt.scheme, netip.MustParseAddr(tt.ip), tt.port)
			if d.Verdict != tt.want || d.Rule != tt.rule {
				t.Errorf("DecideAddress(%s) = %v (%s), want %v by %q", tt.ip, d.Verdict, d, tt.want, tt.rule)
			}
		})
	}
	if d := p.DecideAddress("https", netip.Addr{}, 443); d.Verdict != Deny {
		t.Errorf("invalid address decided %v", d)
	}
}

func TestMatchSegment(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "ac", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"*.tar.*", "x.tar.gz", true}, {"*.tar.*", "x.tgz", false},
		{"a*b*c", "aXbYc", true}, {"a*b*c", "aXcYb", false},
		{"?", "x", false}, {"?", "?", true}, {"[ab]", "a", false}, {"[ab]", "[ab]", true},
		{"exact", "exact", true}, {"exact", "Exact", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"_"+tt.name, func(t *testing.T) {
			if got := matchSegment(tt.pattern, tt.name); got != tt.want {
				t.Errorf("matchSegment(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
			}
		})
	}
}

func TestNarrowestRules(t *testing.T) {
	tests := []struct {
		name   string
		access Network
		want   string
	}{
		{"HTTPSDefaultPort", Network{Scheme: "https", Host: "API.example.com.", Port: 443}, "https://api.example.com"},
		{"HTTPOtherPort", Network{Scheme: "http", Host: "127.0.0.1", Port: 8080}, "http://127.0.0.1:8080"},
		{"IPv6", Network{Scheme: "https", Host: "2001:db8::1", Port: 8443}, "https://[2001:db8::1]:8443"},
		{"MappedIsV4", Network{Scheme: "https", Host: "::ffff:203.0.113.5", Port: 443}, "https://203.0.113.5"},
		{"TCP", Network{Scheme: "tcp", Host: "db.example.net", Port: 5432}, "tcp://db.example.net:5432"},
		{"TCPListen", Network{Scheme: "tcp-listen", Host: "127.0.0.1", Port: 7000}, "tcp-listen://127.0.0.1:7000"},
		{"UDPListen", Network{Scheme: "udp-listen", Host: "::1", Port: 5353}, "udp-listen://[::1]:5353"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NetworkHost(tt.access)
			if err != nil || got != tt.want {
				t.Fatalf("NetworkHost(%s) = %q, %v; want %q", tt.access, got, err, tt.want)
			}
			p := New()
			if err := p.AddNetwork(AllowList, got); err != nil {
				t.Fatal(err)
			}
			if d := p.Decide(tt.access, Protected{}); d.Verdict != Allow {
				t.Errorf("the rule %q does not allow %s: %s", got, tt.access, d)
			}
		})
	}
	for _, bad := range []Network{{Scheme: "ftp", Host: "a.com", Port: 21}, {Scheme: "tcp", Host: "a.com"}, {Scheme: "https", Host: "a b"}} {
		if got, err := NetworkHost(bad); err == nil {
			t.Errorf("NetworkHost(%s) = %q, want an error", bad, got)
		}
	}

	storage := []struct {
		name   string
		path   string
		folder bool
		want   string
	}{
		{"File", "/home/me/a.txt", false, "fs:///home/me/a.txt"},
		{"Folder", "/home/me/project", true, "fs:///home/me/project/**"},
		{"RootFolder", "/", true, "fs:///**"},
	}
	for _, tt := range storage {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StorageURI(tt.path, tt.folder)
			if err != nil || got != tt.want {
				t.Fatalf("StorageURI(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
			p := New()
			if err := p.AddStorage(AllowList, got, Read); err != nil {
				t.Fatal(err)
			}
			if d := p.Decide(Storage{Path: tt.path}, Protected{}); d.Verdict != Allow {
				t.Errorf("the rule %q does not allow %s: %s", got, tt.path, d)
			}
		})
	}
	for _, bad := range []string{"relative", "/a/../b", "/a/*b"} {
		if got, err := StorageURI(bad, false); err == nil {
			t.Errorf("StorageURI(%q) = %q, want an error", bad, got)
		}
	}
}

// TestIPLiteralWithTrailingDot: "0.0.0.0." is an address to a resolver, so
// it is decided as the address, and the rule built for it covers it
// (found by FuzzMatchHost).
func TestIPLiteralWithTrailingDot(t *testing.T) {
	a := Network{Scheme: "http", Host: "0.0.0.0.", Port: 472}
	rule, err := NetworkHost(a)
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	if err := p.AddNetwork(AllowList, rule); err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(a, Protected{}); d.Verdict != Allow {
		t.Fatalf("rule %q built for %v does not allow it: %v", rule, a, d)
	}
	if d := New().Decide(Network{Scheme: "https", Host: "127.0.0.1.", Port: 443}, Protected{}); d.Verdict == Allow {
		t.Fatalf("an empty policy allowed 127.0.0.1.: %v", d)
	}
}
