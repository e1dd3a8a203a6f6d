package store

import (
	"bytes"
	"strings"
	"testing"
)

// wassetteMetadata is a metadata.json as Wassette writes it.
const wassetteMetadata = `{
  "component_id": "fetch-rs",
  "tool_schemas": [{"name": "fetch", "description": "Fetch a URL", "inputSchema": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}}],
  "function_identifiers": [{"package_name": null, "interface_name": null, "function_name": "fetch"}],
  "tool_names": ["fetch"],
  "validation_stamp": {"file_size": 1234, "mtime": 1760000000, "content_hash": null},
  "created_at": 1760000001
}`

func TestParseMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, wantErr string
	}{
		{"wassette", wassetteMetadata, ""},
		{"empty-object", `{}`, ""},
		{"schema-not-object", `{"tool_schemas":["x"],"tool_names":["x"]}`, "not a JSON object"},
		{"names-mismatch", `{"tool_schemas":[{}],"tool_names":[]}`, "1 tool schemas"},
		{"bad-hash", `{"validation_stamp":{"content_hash":"ABC"}}`, "content_hash"},
		{"bad-id", `{"component_id":"../x"}`, "component_id"},
		{"trailing", `{} {}`, "after its JSON object"},
		{"not-json", `nope`, "not valid JSON"},
		{"negative-size", `{"validation_stamp":{"file_size":-1}}`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMetadata([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMetadata = %+v, %v; want an error saying %q", m, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkMetadataRoundTrip(t, m)
		})
	}
	m, _ := ParseMetadata([]byte(wassetteMetadata))
	if m.ComponentID != "fetch-rs" || m.ToolNames[0] != "fetch" || m.ValidationStamp.FileSize != 1234 || m.ValidationStamp.Digest() != "" {
		t.Errorf("Wassette's metadata read as %+v", m)
	}
}

func checkMetadataRoundTrip(t *testing.T, m *Metadata) {
	t.Helper()
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal of parsed metadata: %v", err)
	}
	again, err := ParseMetadata(data)
	if err != nil {
		t.Fatalf("metadata written by Marshal does not parse: %v\n%s", err, data)
	}
	data2, err := again.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, data2) {
		t.Fatalf("metadata changes on a round trip:\n%s\n%s", data, data2)
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data)
		if err != nil {
			return
		}
		checkMetadataRoundTrip(t, m)
	})
}

func TestParseSettings(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name, in, wantErr string
	}{
		{"minimal", `{"version":1}`, ""},
		{"full", `{"version":1,"disabled":true,"call_timeout":"1m30s","memory_limit_bytes":1048576,"env":{"API_URL":"https://x"},"source":"oci://ghcr.io/a/b:1","code_digest":"` + digest + `","grants_digest":"` + digest + `","pending_policy":{"policy":"version: \"1.0\"\n","source":"layer","code_digest":"` + digest + `"}}`, ""},
		{"newer-version", `{"version":2}`, "upgrade Tapedeck"},
		{"no-version", `{}`, "version 0"},
		{"unknown-field", `{"version":1,"enabled":false}`, "unknown field"},
		{"bad-timeout", `{"version":1,"call_timeout":"soon"}`, "duration"},
		{"negative-timeout", `{"version":1,"call_timeout":"-1s"}`, "negative"},
		{"bad-env-key", `{"version":1,"env":{"1X":"y"}}`, "environment variable name"},
		{"nul-in-value", `{"version":1,"env":{"X":"a\u0000b"}}`, "NUL"},
		{"bad-digest", `{"version":1,"code_digest":"sha256:xyz"}`, "code digest"},
		{"bad-pending", `{"version":1,"pending_policy":{"policy":"version: \"9\"\n"}}`, "pending policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSettings([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSettings = %+v, %v; want an error saying %q", s, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSettingsRoundTrip(t, s)
		})
	}
}

func checkSettingsRoundTrip(t *testing.T, s Settings) {
	t.Helper()
	data, err := s.Marshal()
	if err != nil {
		t.Fatalf("Marshal of parsed settings: %v", err)
	}
	again, err := ParseSettings(data)
	if err != nil {
		t.Fatalf("settings written by Marshal do not parse: %v\n%s", err, data)
	}
	data2, err := again.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, data2) {
		t.Fatalf("settings change on a round trip:\n%s\n%s", data, data2)
	}
}

func FuzzParseSettings(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSettings(data)
		if err != nil {
			return
		}
		checkSettingsRoundTrip(t, s)
	})
}
