package mcpbridge

import (
	"cmp"
	"slices"
	"strings"
)

// searchCatalog returns the catalog entries that match query, best first,
// scored as Wassette's search-components does. For each word of the query
// (case ignored), an entry scores on its name 100 for an exact match, else
// 50 for a prefix, else 20 for a substring; on its description 15 for a
// prefix, else 10 for a substring; and 5 when its URI contains the word.
// Entries scoring zero are dropped; ties keep the catalog's order. An empty
// query returns the whole catalog.
func searchCatalog(catalog []CatalogEntry, query string) []CatalogEntry {
	terms := strings.Fields(strings.ToLower(query))
	if len(terms) == 0 {
		return append([]CatalogEntry{}, catalog...)
	}
	type scored struct {
		entry CatalogEntry
		score int
	}
	var hits []scored
	for _, e := range catalog {
		if score := scoreEntry(e, terms); score > 0 {
			hits = append(hits, scored{e, score})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	out := make([]CatalogEntry, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.entry)
	}
	return out
}

func scoreEntry(e CatalogEntry, terms []string) int {
	name, desc, uri := strings.ToLower(e.Name), strings.ToLower(e.Description), strings.ToLower(e.URI)
	score := 0
	for _, t := range terms {
		switch {
		case name == t:
			score += 100
		case strings.HasPrefix(name, t):
			score += 50
		case strings.Contains(name, t):
			score += 20
		}
		switch {
		case strings.HasPrefix(desc, t):
			score += 15
		case strings.Contains(desc, t):
			score += 10
		}
		if strings.Contains(uri, t) {
			score += 5
		}
	}
	return score
}
