package jsonbridge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// MaxToolNameLen is the longest tool name MCP clients accept
// (names match ^[a-zA-Z0-9_-]{1,128}$).
const MaxToolNameLen = 128

// hashSuffixLen is how many hex digits of SHA-256 a shortened name ends with:
// 48 bits, so that two long names sharing a 117-character prefix collide only
// by astronomical bad luck.
const hashSuffixLen = 12

// BuiltinToolNames returns the names of Tapedeck's own MCP tools, which are
// Wassette's; no component tool may take one of them. The slice is new on
// every call.
func BuiltinToolNames() []string {
	return []string{
		"load-component",
		"unload-component",
		"list-components",
		"search-components",
		"get-policy",
		"grant-storage-permission",
		"grant-network-permission",
		"grant-environment-variable-permission",
		"revoke-storage-permission",
		"revoke-network-permission",
		"revoke-environment-variable-permission",
		"reset-permission",
	}
}

// IsBuiltinToolName reports whether name is one of BuiltinToolNames.
func IsBuiltinToolName(name string) bool {
	for _, b := range BuiltinToolNames() {
		if b == name {
			return true
		}
	}
	return false
}

// ToolName returns the tool name of an export function from its path: the
// names of the exports enclosing it, outermost first, then the function's
// name. The parts are joined with "_", lowercased, and every character
// outside [a-z0-9-] becomes "_":
//
//	ToolName("local:context7/context7@0.1.0", "resolve-library-id") == "local_context7_context7_0_1_0_resolve-library-id"
//	ToolName("fetch") == "fetch"
//
// A name longer than MaxToolNameLen keeps its first characters and ends with
// "_" and a hash of the whole name, so it is stable across loads and still
// tells similar long names apart. An empty name becomes "_".
func ToolName(path ...string) string {
	return shorten(sanitize(path...))
}

// sanitize joins path with "_" and maps it onto [a-z0-9_-].
func sanitize(path ...string) string {
	var b strings.Builder
	for i, part := range path {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range part {
			switch {
			case r >= 'A' && r <= 'Z':
				b.WriteRune(r + ('a' - 'A'))
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// shorten fits a sanitized name into MaxToolNameLen.
func shorten(name string) string {
	if name == "" {
		return "_"
	}
	if len(name) <= MaxToolNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := hex.EncodeToString(sum[:])[:hashSuffixLen]
	return name[:MaxToolNameLen-hashSuffixLen-1] + "_" + suffix
}

// Assignment is the name a Registry gave one tool.
type Assignment struct {
	// Wanted is the name the tool would have on its own (from ToolName).
	Wanted string
	// Name is the name it got: Wanted, unless that was taken.
	Name string
	// Note says why Name differs from Wanted, for the load result;
	// empty when it does not.
	Note string
}

// Registry hands out tool names across the loaded components, so that no two
// tools share a name and no component tool takes a built-in tool's name.
// The first tool to ask for a name keeps it; a later one (or one that wants a
// built-in name) gets "<component-id>_<name>", shortened like any tool name,
// and, should that be taken too, a numeric suffix. A component's names stay
// reserved until Release, so names do not shift under a client while it runs.
//
// The zero value is an empty registry ready to use. A Registry is safe for
// concurrent use and must not be copied after first use.
type Registry struct {
	mu     sync.Mutex
	owners map[string]string   // tool name → component id
	names  map[string][]string // component id → its tool names
}

// Assign gives names to the tools of one component, in order; wanted holds
// each tool's ToolName. A component that already holds names keeps them:
// Assign first releases whatever componentID held, so a reload gets its old
// names back when nobody else took them in between.
func (r *Registry) Assign(componentID string, wanted []string) []Assignment {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.owners == nil {
		r.owners = make(map[string]string)
		r.names = make(map[string][]string)
	}
	r.releaseLocked(componentID)
	out := make([]Assignment, len(wanted))
	for i, w := range wanted {
		name, note := w, ""
		if reason := r.unavailableLocked(w); reason != "" {
			name = r.freeNameLocked(sanitize(componentID, w))
			note = fmt.Sprintf("tool %q is renamed %q because %s", w, name, reason)
		}
		r.owners[name] = componentID
		r.names[componentID] = append(r.names[componentID], name)
		out[i] = Assignment{Wanted: w, Name: name, Note: note}
	}
	return out
}

// Release frees the names componentID holds, as when it is unloaded.
func (r *Registry) Release(componentID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releaseLocked(componentID)
}

// Owner returns the component that holds a tool name.
func (r *Registry) Owner(name string) (componentID string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	componentID, ok = r.owners[name]
	return componentID, ok
}

func (r *Registry) releaseLocked(componentID string) {
	for _, n := range r.names[componentID] {
		delete(r.owners, n)
	}
	delete(r.names, componentID)
}

// unavailableLocked says why name cannot be given out, or "" when it can.
func (r *Registry) unavailableLocked(name string) string {
	if IsBuiltinToolName(name) {
		return "that is the name of a built-in tool"
	}
	if owner, taken := r.owners[name]; taken {
		return fmt.Sprintf("component %q already has a tool by that name", owner)
	}
	return ""
}

// freeNameLocked returns base (a sanitized name), shortened, or the first of base_2, base_3, …
// that is free.
func (r *Registry) freeNameLocked(base string) string {
	name := shorten(base)
	for n := 2; r.unavailableLocked(name) != ""; n++ {
		suffix := fmt.Sprintf("_%d", n)
		name = shorten(base)
		if len(name)+len(suffix) > MaxToolNameLen {
			name = name[:MaxToolNameLen-len(suffix)]
		}
		name += suffix
	}
	return name
}
