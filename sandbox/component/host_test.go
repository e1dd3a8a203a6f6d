package component

import "testing"

func TestVersionKey(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"wasi:io/streams@0.2.3", "wasi:io/streams@0.2", true},
		{"wasi:io/streams@0.2.10", "wasi:io/streams@0.2", true},
		{"wasi:io/streams@0.2", "wasi:io/streams@0.2", true},
		{"wasi:config/store@0.2.0-draft", "wasi:config/store@0.2.0-draft", true},
		{"x:y/z@1.4.0", "x:y/z@1", true},
		{"x:y/z@1", "x:y/z@1", true},
		{"wasi:io/streams", "", false},
		{"streams@0.2.3", "", false},
		{"wasi:io/streams@0.x.3", "", false},
		{"wasi:io/streams@0.2.3.4", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := versionKey(tt.name)
			if got != tt.want || ok != tt.ok {
				t.Errorf("versionKey(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRegistryLookupAnyPatch(t *testing.T) {
	streams := &HostInterface{Name: "wasi:io/streams@0.2"}
	r := NewRegistry(streams)
	for _, name := range []string{"wasi:io/streams@0.2.0", "wasi:io/streams@0.2.12"} {
		if got := r.Lookup(name); got != streams {
			t.Errorf("Lookup(%q) = %v, want the 0.2 interface", name, got)
		}
	}
	if got := r.Lookup("wasi:io/streams@0.3.0"); got != nil {
		t.Errorf("Lookup of another minor version = %v, want nil", got)
	}
}

func TestRegistryAddRejectsPatchVersion(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Add of a name with a patch version did not panic")
		}
	}()
	NewRegistry(&HostInterface{Name: "wasi:io/streams@0.2.3"})
}
