package jsonbridge

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var validToolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

func TestToolName(t *testing.T) {
	long := strings.Repeat("very-long-name-", 10) // 150 characters
	tests := []struct {
		name string
		path []string
		want string
	}{
		{"worldLevel", []string{"fetch"}, "fetch"},
		{"context7", []string{"local:context7/context7@0.1.0", "resolve-library-id"}, "local_context7_context7_0_1_0_resolve-library-id"},
		{"upperCase", []string{"Wasi:HTTP/Handler", "Handle"}, "wasi_http_handler_handle"},
		{"nonASCII", []string{"tö", "ß"}, "t___"},
		{"resourceMethod", []string{"local:fs/api", "[method]file.read"}, "local_fs_api__method_file_read"},
		{"nested", []string{"outer", "inner", "f"}, "outer_inner_f"},
		{"empty", nil, "_"},
		{"exactly128", []string{strings.Repeat("a", 128)}, strings.Repeat("a", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToolName(tt.path...); got != tt.want {
				t.Errorf("ToolName(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}

	t.Run("longIsShortenedStably", func(t *testing.T) {
		a := ToolName("local:pkg/iface@1.0.0", long+"a")
		b := ToolName("local:pkg/iface@1.0.0", long+"b")
		if len(a) != MaxToolNameLen || !validToolName.MatchString(a) {
			t.Errorf("shortened name %q (%d chars) is not a valid name of %d chars", a, len(a), MaxToolNameLen)
		}
		if a == b {
			t.Errorf("two long names that differ only at the end both became %q", a)
		}
		if again := ToolName("local:pkg/iface@1.0.0", long+"a"); again != a {
			t.Errorf("shortening is not stable: %q then %q", a, again)
		}
		if !strings.HasPrefix(a, "local_pkg_iface_1_0_0_very-long-name-") {
			t.Errorf("shortened name %q lost its readable prefix", a)
		}
	})
}

func TestBuiltinToolNames(t *testing.T) {
	names := BuiltinToolNames()
	if len(names) != 12 {
		t.Fatalf("%d built-in names, want Wassette's 12", len(names))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || !validToolName.MatchString(n) {
			t.Errorf("built-in name %q is repeated or invalid", n)
		}
		seen[n] = true
		if !IsBuiltinToolName(n) {
			t.Errorf("IsBuiltinToolName(%q) = false", n)
		}
	}
	names[0] = "changed"
	if BuiltinToolNames()[0] == "changed" {
		t.Error("BuiltinToolNames returns shared state that callers can change")
	}
	if IsBuiltinToolName("fetch") {
		t.Error(`IsBuiltinToolName("fetch") = true`)
	}
}

func TestRegistry(t *testing.T) {
	type step struct {
		assign  string   // component to assign, or
		release string   // component to release
		wanted  []string // names asked for
		want    []string // names given
		notes   []bool   // whether each assignment has a note
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"distinctNames", []step{
			{assign: "a", wanted: []string{"x", "y"}, want: []string{"x", "y"}, notes: []bool{false, false}},
			{assign: "b", wanted: []string{"z"}, want: []string{"z"}, notes: []bool{false}},
		}},
		{"collisionFirstKeeps", []step{
			{assign: "a", wanted: []string{"fetch"}, want: []string{"fetch"}, notes: []bool{false}},
			{assign: "b", wanted: []string{"fetch"}, want: []string{"b_fetch"}, notes: []bool{true}},
		}},
		{"builtinNeverTaken", []step{
			{assign: "mine", wanted: []string{"load-component", "get-policy"}, want: []string{"mine_load-component", "mine_get-policy"}, notes: []bool{true, true}},
		}},
		{"componentIDSanitized", []step{
			{assign: "a", wanted: []string{"fetch"}, want: []string{"fetch"}, notes: []bool{false}},
			{assign: "My.Comp", wanted: []string{"fetch"}, want: []string{"my_comp_fetch"}, notes: []bool{true}},
		}},
		{"prefixedAlsoTaken", []step{
			{assign: "a", wanted: []string{"fetch", "b_fetch"}, want: []string{"fetch", "b_fetch"}, notes: []bool{false, false}},
			{assign: "b", wanted: []string{"fetch"}, want: []string{"b_fetch_2"}, notes: []bool{true}},
		}},
		{"duplicateWithinComponent", []step{
			{assign: "a", wanted: []string{"x_y", "x_y"}, want: []string{"x_y", "a_x_y"}, notes: []bool{false, true}},
		}},
		{"releaseFreesNames", []step{
			{assign: "a", wanted: []string{"fetch"}, want: []string{"fetch"}, notes: []bool{false}},
			{assign: "b", wanted: []string{"fetch"}, want: []string{"b_fetch"}, notes: []bool{true}},
			{release: "a"},
			{assign: "c", wanted: []string{"fetch"}, want: []string{"fetch"}, notes: []bool{false}},
		}},
		{"reloadKeepsOwnNames", []step{
			{assign: "a", wanted: []string{"fetch"}, want: []string{"fetch"}, notes: []bool{false}},
			{assign: "a", wanted: []string{"fetch", "more"}, want: []string{"fetch", "more"}, notes: []bool{false, false}},
		}},
		{"longComponentIDShortened", []step{
			{assign: "a", wanted: []string{"fetch"}, want: []string{"fetch"}, notes: []bool{false}},
			{assign: strings.Repeat("c", 200), wanted: []string{"fetch"}, want: []string{ToolName(strings.Repeat("c", 200) + "_fetch")}, notes: []bool{true}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Registry
			for i, s := range tt.steps {
				if s.release != "" {
					r.Release(s.release)
					continue
				}
				got := r.Assign(s.assign, s.wanted)
				for j, a := range got {
					if a.Wanted != s.wanted[j] || a.Name != s.want[j] || (a.Note != "") != s.notes[j] {
						t.Errorf("step %d: assignment %d = %+v, want name %q (note: %v)", i, j, a, s.want[j], s.notes[j])
					}
					if !validToolName.MatchString(a.Name) {
						t.Errorf("step %d: %q is not a valid tool name", i, a.Name)
					}
					if owner, ok := r.Owner(a.Name); !ok || owner != s.assign {
						t.Errorf("step %d: Owner(%q) = %q, %v; want %q", i, a.Name, owner, ok, s.assign)
					}
				}
			}
		})
	}
}

func TestRegistryNoteSaysWhy(t *testing.T) {
	var r Registry
	r.Assign("first", []string{"fetch"})
	got := r.Assign("second", []string{"fetch", "reset-permission"})
	if want := `tool "fetch" is renamed "second_fetch" because component "first" already has a tool by that name`; got[0].Note != want {
		t.Errorf("note = %q, want %q", got[0].Note, want)
	}
	if want := `tool "reset-permission" is renamed "second_reset-permission" because that is the name of a built-in tool`; got[1].Note != want {
		t.Errorf("note = %q, want %q", got[1].Note, want)
	}
}

// TestRegistryConcurrent has many components claim overlapping names at once
// (run it with -race): afterwards every name has exactly one owner.
func TestRegistryConcurrent(t *testing.T) {
	var r Registry
	const components = 32
	var wg sync.WaitGroup
	results := make([][]Assignment, components)
	for i := range components {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c%d", i)
			results[i] = r.Assign(id, []string{"fetch", "search", fmt.Sprintf("own-%d", i)})
			if i%4 == 0 {
				r.Release(id)
				results[i] = nil
			}
		}()
	}
	wg.Wait()
	owners := map[string]string{}
	for i, as := range results {
		for _, a := range as {
			id := fmt.Sprintf("c%d", i)
			if prev, dup := owners[a.Name]; dup {
				t.Errorf("name %q given to both %s and %s", a.Name, prev, id)
			}
			owners[a.Name] = id
			if got, _ := r.Owner(a.Name); got != id {
				t.Errorf("Owner(%q) = %q, want %q", a.Name, got, id)
			}
		}
	}
}
