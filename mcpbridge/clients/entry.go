package clients

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// field is one key of an entry, in the order it is written.
type field struct {
	key   string
	value any // string, []string, bool, int or map[string]string
}

// fields returns the entry that runs binary as an MCP stdio server, in the
// shape s.
func (s EntryShape) fields(binary string) []field {
	args := []string{"mcp"}
	switch s {
	case EntryTypedStdio:
		return []field{{"type", "stdio"}, {"command", binary}, {"args", args}}
	case EntryCopilot:
		return []field{{"type", "local"}, {"command", binary}, {"args", args}, {"tools", []string{"*"}}}
	case EntryOpencode:
		return []field{{"type", "local"}, {"command", []string{binary, "mcp"}}, {"enabled", true}}
	case EntryContinue:
		return []field{{"name", EntryKey}, {"type", "stdio"}, {"command", binary}, {"args", args}}
	case EntryGoose:
		// Goose's stdio extension config; description and timeout are
		// required by some of its versions, so they are always written.
		return []field{{"name", EntryKey}, {"type", "stdio"}, {"cmd", binary}, {"args", args},
			{"enabled", true}, {"envs", map[string]string{}}, {"description", "Tapedeck sandboxed MCP tools"},
			{"timeout", 300}}
	}
	return []field{{"command", binary}, {"args", args}}
}

// normalize returns a copy of a decoded value (from JSON, YAML or TOML) in
// one set of types, so values from different parsers compare equal with
// reflect.DeepEqual: maps become map[string]any, lists []any, and numbers a
// number type that compares NaN equal to itself.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = normalize(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = e
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = normalize(e)
		}
		return a
	case []string:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = e
		}
		return a
	case nil, string, bool, number:
		return v
	case float64:
		return number(strconv.FormatFloat(v, 'g', -1, 64))
	case float32:
		return number(strconv.FormatFloat(float64(v), 'g', -1, 64))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return number(fmt.Sprint(v))
	case fmt.Stringer: // dates and times from YAML and TOML
		return v.String()
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// number is a normalized number: its shortest decimal form.
type number string

// isOurs reports whether an existing entry is Tapedeck's: its arguments are
// ["mcp"] and its command's base name is tapedeck. The path may differ (the
// binary moved), which makes it ours but stale.
func isOurs(entry any) bool {
	m, ok := normalize(entry).(map[string]any)
	if !ok {
		return false
	}
	cmd, _ := m["command"].(string)
	args, _ := m["args"].([]any)
	if c, ok := m["cmd"].(string); ok && cmd == "" { // Goose
		cmd = c
	}
	if list, ok := m["command"].([]any); ok && len(list) > 0 { // opencode
		cmd, _ = list[0].(string)
		args = list[1:]
	}
	return isTapedeckBinary(cmd) && len(args) == 1 && args[0] == "mcp"
}

func isTapedeckBinary(cmd string) bool {
	// Entries may come from another OS's config (a synced dotfile), so both
	// separators count.
	base := filepath.Base(strings.ReplaceAll(cmd, `\`, "/"))
	base = strings.TrimSuffix(strings.ToLower(base), ".exe")
	return base == "tapedeck"
}

// upToDate reports whether entry holds every field of want with the same
// value. Keys a client adds on its own (Cline's "disabled", …) are ignored.
func upToDate(entry any, want []field) bool {
	m, ok := normalize(entry).(map[string]any)
	if !ok {
		return false
	}
	for _, f := range want {
		got, ok := m[f.key]
		if !ok || !reflect.DeepEqual(got, normalize(f.value)) {
			return false
		}
	}
	return true
}
