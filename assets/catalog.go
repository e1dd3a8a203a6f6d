package assets

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed catalog.json
var catalogJSON []byte

// CatalogEntry is one component of the catalog that `tapedeck registry`
// and the search-components tool search. The JSON shape is Wassette's
// component-registry.json's.
type CatalogEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	URI         string `json:"uri"`
}

// Catalog returns the shipped catalog of known components, in its file's order.
func Catalog() ([]CatalogEntry, error) {
	var entries []CatalogEntry
	if err := json.Unmarshal(catalogJSON, &entries); err != nil {
		// Only a broken build gets here: the file is embedded.
		return nil, fmt.Errorf("the built-in component catalog does not parse (a broken build: report it): %w", err)
	}
	return entries, nil
}
