package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fullPolicy = `$schema: https://raw.githubusercontent.com/microsoft/policy-mcp/main/schema/policy-v1.0.schema.json
version: "1.0"
description: "Every field"
permissions:
  storage:
    allow:
      - uri: "fs:///home/me/project/**"
        access: [read, write]
      - uri: "fs:///etc/hosts"
        access: [read]
    deny:
      - uri: "fs:///home/me/project/.git/**"
        access: [write]
  network:
    allow:
      - host: "api.example.com"
      - host: "*.example.org"
      - host: "https://rss.nytimes.com/"
      - host: "api.example.com:8443"
      - host: "[2001:db8::1]:8080"
      - cidr: "10.0.0.0/8"
      - cidr: "fd00::/8"
    deny:
      - host: "internal.example.com"
  environment:
    allow:
      - key: "API_KEY"
    deny:
      - key: "AWS_SECRET_ACCESS_KEY"
  resources:
    limits:
      memory: "512Mi"
      cpu: "500m"
`

func TestParseReadsEveryField(t *testing.T) {
	p, err := Parse([]byte(fullPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != "1.0" || p.Description() != "Every field" {
		t.Errorf("version %q, description %q", p.Version(), p.Description())
	}
	want := Permissions{
		Storage: StorageRules{
			Allow: []StorageRule{
				{URI: "fs:///home/me/project/**", Access: []AccessMode{Read, Write}},
				{URI: "fs:///etc/hosts", Access: []AccessMode{Read}},
			},
			Deny: []StorageRule{{URI: "fs:///home/me/project/.git/**", Access: []AccessMode{Write}}},
		},
		Network: NetworkRules{
			Allow: []NetworkRule{
				{Host: "api.example.com"}, {Host: "*.example.org"}, {Host: "https://rss.nytimes.com/"},
				{Host: "api.example.com:8443"}, {Host: "[2001:db8::1]:8080"}, {CIDR: "10.0.0.0/8"}, {CIDR: "fd00::/8"},
			},
			Deny: []NetworkRule{{Host: "internal.example.com"}},
		},
		Environment: EnvironmentRules{
			Allow: []EnvironmentRule{{Key: "API_KEY"}},
			Deny:  []EnvironmentRule{{Key: "AWS_SECRET_ACCESS_KEY"}},
		},
	}
	if got := p.Permissions(); !reflect.DeepEqual(got, want) {
		t.Errorf("permissions:\n got %+v\nwant %+v", got, want)
	}
	if got, want := p.Limits(), (Limits{MemoryBytes: 512 << 20, CPUMillis: 500}); got != want {
		t.Errorf("limits %+v, want %+v", got, want)
	}
	// The only warning is the CPU limit that cannot be enforced.
	ws := p.Warnings()
	if len(ws) != 1 || ws[0].Field != "permissions.resources.limits.cpu" || ws[0].Line != 33 {
		t.Errorf("warnings = %v, want one for the cpu limit at line 33", ws)
	}
}

func TestParseErrorsNameLineAndField(t *testing.T) {
	head := "version: \"1.0\"\npermissions:\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"NoVersion", "permissions: {}\n", `policy.yaml:1:1: version: missing: add version: "1.0" at the top`},
		{"VersionTwo", "version: \"2.0\"\n", `policy.yaml:1:10: version: "2.0" is not a version this Tapedeck reads (it reads 1.x; quote it: version: "1.0")`},
		{"VersionInteger", "version: 1\n", `policy.yaml:1:10: version: "1" is not a version this Tapedeck reads (it reads 1.x; quote it: version: "1.0")`},
		{"VersionList", "version: [1]\n", `policy.yaml:1:10: version: must be a single value`},
		{"RootList", "- a\n", `policy.yaml:1:1: must be a mapping (key: value lines)`},
		{"AccessExec", head + "  storage:\n    allow:\n      - uri: \"fs:///x\"\n        access: [read, exec]\n",
			`policy.yaml:6:24: permissions.storage.allow[0].access: "exec" is not read or write`},
		{"AccessMissing", head + "  storage:\n    allow:\n      - uri: \"fs:///x\"\n",
			`policy.yaml:5:9: permissions.storage.allow[0]: missing access: list read, write or both`},
		{"AccessEmpty", head + "  storage:\n    deny: [{uri: \"fs:///x\", access: []}]\n",
			`policy.yaml:4:12: permissions.storage.deny[0]: missing access: list read, write or both`},
		{"AccessScalar", head + "  storage:\n    allow: [{uri: \"fs:///x\", access: read}]\n",
			`policy.yaml:4:38: permissions.storage.allow[0].access: must be a list (lines starting with -)`},
		{"URIMissing", head + "  storage:\n    allow: [{access: [read]}]\n",
			`policy.yaml:4:13: permissions.storage.allow[0]: missing uri (fs:///absolute/path)`},
		{"URIRelative", head + "  storage:\n    allow: [{uri: \"fs://work/agent/**\", access: [read]}]\n",
			`policy.yaml:4:19: permissions.storage.allow[0].uri: "fs://work/agent/**" is not an absolute path: write fs:///work/agent/**`},
		{"URINotFS", head + "  storage:\n    allow: [{uri: \"/tmp\", access: [read]}]\n",
			`policy.yaml:4:19: permissions.storage.allow[0].uri: "/tmp" is not an fs:// URI (write fs:///absolute/path)`},
		{"URIGlobstarTwice", head + "  storage:\n    allow: [{uri: \"fs:///a/**/b/**\", access: [read]}]\n",
			`policy.yaml:4:19: permissions.storage.allow[0].uri: "fs:///a/**/b/**" uses ** more than once`},
		{"URIGlobstarInSegment", head + "  storage:\n    allow: [{uri: \"fs:///a/**.txt\", access: [read]}]\n",
			`policy.yaml:4:19: permissions.storage.allow[0].uri: "fs:///a/**.txt": ** must be a whole path segment, not part of "**.txt"`},
		{"URIDotDot", head + "  storage:\n    allow: [{uri: \"fs:///a/../etc\", access: [read]}]\n",
			`policy.yaml:4:19: permissions.storage.allow[0].uri: "fs:///a/../etc" is not a clean path (empty, . or .. segment)`},
		{"StorageMisspeltDeny", head + "  storage:\n    dney: []\n",
			`policy.yaml:4:5: permissions.storage.dney: unknown key: only allow and deny belong here`},
		{"StorageRuleUnknownKey", head + "  storage:\n    allow: [{uri: \"fs:///x\", acess: [read]}]\n",
			`policy.yaml:4:30: permissions.storage.allow[0].acess: unknown key: a storage rule has uri and access`},
		{"HostWildcardInside", head + "  network:\n    allow: [{host: \"api.*.com\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "api.*.com": a wildcard may only be a leading "*." (as in *.example.com)`},
		{"HostStarAllow", head + "  network:\n    allow: [{host: \"*\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "*": a bare * is only accepted in deny lists; name the hosts to allow`},
		{"HostPath", head + "  network:\n    allow: [{host: \"https://example.com/api\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "https://example.com/api" names more than a host (a path, user or space): write only the host, e.g. "https://api.example.com"`},
		{"HostScheme", head + "  network:\n    allow: [{host: \"ftp://example.com\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "ftp://example.com": scheme "ftp" is not http, https, tcp, udp, tcp-listen or udp-listen`},
		{"HostTCPNoPort", head + "  network:\n    allow: [{host: \"tcp://db.example.com\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "tcp://db.example.com": a tcp rule needs a port (tcp://host:port): sockets have no default port`},
		{"HostListenNoPort", head + "  network:\n    allow: [{host: \"udp-listen://127.0.0.1\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "udp-listen://127.0.0.1": a udp-listen rule needs a port (udp-listen://host:port): sockets have no default port`},
		{"HostPortZero", head + "  network:\n    allow: [{host: \"example.com:0\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "example.com:0": port "0" is not a number from 1 to 65535`},
		{"HostPortHuge", head + "  network:\n    allow: [{host: \"example.com:65536\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "example.com:65536": port "65536" is not a number from 1 to 65535`},
		{"HostUnicode", head + "  network:\n    allow: [{host: \"bücher.de\"}]\n",
			`policy.yaml:4:20: permissions.network.allow[0].host: "bücher.de": host name "bücher.de" has the character 'ü': write international names in their xn-- form`},
		{"HostAndCIDR", head + "  network:\n    allow: [{host: \"a.com\", cidr: \"10.0.0.0/8\"}]\n",
			`policy.yaml:4:13: permissions.network.allow[0]: has both host and cidr: write two rules`},
		{"CIDRBad", head + "  network:\n    deny: [{cidr: \"10.0.0.0\"}]\n",
			`policy.yaml:4:19: permissions.network.deny[0].cidr: "10.0.0.0" is not a CIDR such as 10.0.0.0/8 or fd00::/8`},
		{"NetworkEntryEmpty", head + "  network:\n    allow: [{}]\n",
			`policy.yaml:4:13: permissions.network.allow[0]: missing host or cidr`},
		{"EnvWildcard", head + "  environment:\n    allow: [{key: \"AWS_*\"}]\n",
			`policy.yaml:4:19: permissions.environment.allow[0].key: "AWS_*": environment keys take no wildcards; list each key`},
		{"EnvEquals", head + "  environment:\n    allow: [{key: \"A=B\"}]\n",
			`policy.yaml:4:19: permissions.environment.allow[0].key: "A=B": a key cannot contain = or a NUL byte`},
		{"EnvNoKey", head + "  environment:\n    allow: [{name: X}]\n",
			`policy.yaml:4:14: permissions.environment.allow[0].name: unknown key: an environment rule has key`},
		{"MemoryBad", head + "  resources:\n    limits: {memory: \"lots\"}\n",
			`policy.yaml:4:22: permissions.resources.limits.memory: "lots" is not a memory size such as 512Mi, 2Gi or 1G`},
		{"CPUBad", head + "  resources:\n    limits: {cpu: \"-1\"}\n",
			`policy.yaml:4:19: permissions.resources.limits.cpu: "-1" is not a CPU amount such as 500m or 2`},
		{"DuplicateDeny", head + "  network:\n    deny: []\n    deny: []\n",
			`policy.yaml:5:5: permissions.network.deny: appears twice: merge the two into one`},
		{"Alias", "version: \"1.0\"\nx: &list [{host: a.com}]\npermissions:\n  network:\n    allow: *list\n",
			`policy.yaml:5:12: permissions.network.allow: YAML aliases (*name) are not supported in a policy: write the value out`},
		{"SecondDocument", "version: \"1.0\"\n---\nversion: \"1.0\"\n",
			`policy.yaml: line 2: a second YAML document (---); a policy is one document (check the indentation and quoting)`},
		{"BadYAML", "version: \"1.0\n", `policy.yaml: yaml: line 2: found unexpected end of stream (check the indentation and quoting)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded; want %s", tt.want)
			}
			if got := strings.SplitN(err.Error(), "\n", 2)[0]; got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseErrorIsValidationError(t *testing.T) {
	_, err := Parse([]byte("version: \"1.0\"\npermissions:\n  storage:\n    allow: [{uri: x, access: [read]}, {uri: y, access: [read]}]\n"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if ve.Line != 4 || ve.Field != "permissions.storage.allow[0].uri" {
		t.Errorf("first error at line %d field %q", ve.Line, ve.Field)
	}
	// Every problem is reported, not only the first.
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Errorf("%d errors reported, want 2:\n%v", n, err)
	}
}

func TestParseWarnsAboutIgnoredFields(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"UnknownTopLevel", "version: \"1.0\"\nowner: me\n",
			[]string{"policy.yaml:2:1: owner: unknown field ignored (from a newer policy format?)"}},
		{"Runtime", "version: \"1.0\"\npermissions:\n  runtime:\n    docker: {security: {privileged: false}}\n",
			[]string{"policy.yaml:3:3: permissions.runtime: ignored: Tapedeck runs every component in its own WebAssembly sandbox, not a container"}},
		{"IPC", "version: \"1.0\"\npermissions:\n  ipc: {allow: [{uri: \"ipc://x\"}]}\n",
			[]string{"policy.yaml:3:3: permissions.ipc: ignored: components cannot talk to each other in Tapedeck"}},
		{"LegacyResources", "version: \"1.0\"\npermissions:\n  resources: {cpu: 0.5, memory: 1024, io: 10}\n",
			[]string{
				"policy.yaml:3:15: permissions.resources.cpu: ignored: legacy field; write permissions.resources.limits.cpu instead",
				"policy.yaml:3:25: permissions.resources.memory: ignored: legacy field; write permissions.resources.limits.memory instead",
				"policy.yaml:3:39: permissions.resources.io: ignored: legacy field; write permissions.resources.limits.memory instead",
			}},
		{"UnknownPermission", "version: \"1.0\"\npermissions:\n  clipboard: {allow: true}\n",
			[]string{"policy.yaml:3:3: permissions.clipboard: unknown permission ignored (from a newer policy format?); it grants nothing"}},
		{"UnknownLimit", "version: \"1.0\"\npermissions:\n  resources:\n    limits: {fuel: 10}\n",
			[]string{"policy.yaml:4:14: permissions.resources.limits.fuel: unknown limit ignored (from a newer policy format?)"}},
		{"NetworkDefaults", "version: \"1.0\"\npermissions:\n  network:\n    allow:\n    - defaults: true\n    - host: a.com\n",
			[]string{"policy.yaml:5:7: permissions.network.allow[0].defaults: ignored: Tapedeck does not grant Wassette's default host list; list the hosts the component needs"}},
		{"Schema", "$schema: https://example.com/s.json\nversion: \"1.0\"\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range p.Warnings() {
				got = append(got, w.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("warnings\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseEmptyDocumentIsEmptyPolicy(t *testing.T) {
	for name, src := range map[string]string{"Empty": "", "CommentOnly": "# nothing yet\n", "Null": "~\n"} {
		t.Run(name, func(t *testing.T) {
			p, err := Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Decide(Env{Key: "HOME"}, Protected{}); d.Verdict != Ask {
				t.Errorf("empty policy decided %v, want ask", d)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Run("Missing", func(t *testing.T) {
		p, err := Load(filepath.Join(dir, "absent.policy.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Permissions(); !reflect.DeepEqual(got, Permissions{}) {
			t.Errorf("missing file gave permissions %+v", got)
		}
	})
	t.Run("ErrorsNameTheFile", func(t *testing.T) {
		path := filepath.Join(dir, "weather.policy.yaml")
		if err := os.WriteFile(path, []byte("version: \"3\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.HasPrefix(err.Error(), "weather.policy.yaml:1:10: version:") {
			t.Errorf("error %v does not start with the file name and position", err)
		}
	})
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		text string
		want int64 // 0: an error
	}{
		{"512Mi", 512 << 20}, {"2Gi", 2 << 30}, {"64Ki", 64 << 10}, {"1Ti", 1 << 40},
		{"1k", 1000}, {"1M", 1e6}, {"1G", 1e9}, {"1048576", 1 << 20}, {"1.5Gi", 3 << 29},
		{"0.5", 1}, {"7Ei", 7 << 60},
		{"", 0}, {"Mi", 0}, {"0", 0}, {"-1Mi", 0}, {"1.Mi", 0}, {".5Mi", 0}, {"1e3", 0},
		{"512MB", 0}, {"8Ei", 0}, {"1 Mi", 0}, {"0x10", 0},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := parseMemory(tt.text)
			if tt.want == 0 {
				if err == nil {
					t.Errorf("parseMemory(%q) = %d, want an error", tt.text, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseMemory(%q) = %d, %v; want %d", tt.text, got, err, tt.want)
			}
		})
	}
}

func TestParseCPU(t *testing.T) {
	tests := []struct {
		text string
		want int64 // 0: an error
	}{
		{"500m", 500}, {"2", 2000}, {"0.5", 500}, {"1.25", 1250}, {"0.0001", 1}, {"1m", 1},
		{"", 0}, {"m", 0}, {"0", 0}, {"0m", 0}, {"-1", 0}, {"2 cores", 0}, {"1Mi", 0},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := parseCPU(tt.text)
			if tt.want == 0 {
				if err == nil {
					t.Errorf("parseCPU(%q) = %d, want an error", tt.text, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseCPU(%q) = %d, %v; want %d", tt.text, got, err, tt.want)
			}
		})
	}
}
