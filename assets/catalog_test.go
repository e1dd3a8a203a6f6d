package assets

import (
	"strings"
	"testing"
)

func TestCatalog(t *testing.T) {
	entries, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("the catalog is empty")
	}
	names := map[string]bool{}
	for _, e := range entries {
		t.Run(strings.ReplaceAll(e.Name, " ", "_"), func(t *testing.T) {
			if e.Name == "" || e.Description == "" {
				t.Errorf("entry %+v lacks a name or description", e)
			}
			if !strings.HasPrefix(e.URI, "oci://") && !strings.HasPrefix(e.URI, "https://") {
				t.Errorf("uri %q is not oci:// or https://", e.URI)
			}
			if names[strings.ToLower(e.Name)] {
				t.Errorf("name %q appears twice: registry get could not choose", e.Name)
			}
			names[strings.ToLower(e.Name)] = true
		})
	}
}
