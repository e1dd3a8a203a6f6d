package cli

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"tapedeck.dev/tapedeck/assets"
)

var registryCmd = &Command{
	Name:  "registry",
	Args:  "search [QUERY] [-o table|json|yaml] | get NAME [--trust-bundled-policy] [--yes]",
	Short: "find and load components from the catalog shipped with Tapedeck",
	Long: `search lists the catalog's components whose name, description or URI holds
every word of QUERY (all of them without one). get loads the component named
NAME (its catalog name, or the last part of its URI such as time-server-js),
as 'tapedeck component load URI' would.`,
	Run: func(ctx context.Context, env *Env, args []string) error {
		return subverbs(ctx, env, "registry", args, map[string]func(context.Context, *Env, []string) error{
			"search": registrySearch, "get": registryGet,
		})
	},
}

func registrySearch(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "registry search", "[QUERY] [-o table|json|yaml]")
	o := outputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	format, err := parseOutput(*o)
	if err != nil {
		return err
	}
	catalog, err := assets.Catalog()
	if err != nil {
		return err
	}
	terms := strings.Fields(strings.ToLower(strings.Join(pos, " ")))
	found := []assets.CatalogEntry{}
	for _, e := range catalog {
		text := strings.ToLower(e.Name + " " + e.Description + " " + e.URI)
		all := true
		for _, t := range terms {
			all = all && strings.Contains(text, t)
		}
		if all {
			found = append(found, e)
		}
	}
	return writeData(env.Stdout, format, found, func(w io.Writer) {
		fmt.Fprintln(w, "NAME\tURI\tDESCRIPTION")
		for _, e := range found {
			fmt.Fprintf(w, "%s\t%s\t%s\n", e.Name, e.URI, e.Description)
		}
	})
}

// shortName is the last part of a catalog URI without its tag:
// oci://ghcr.io/microsoft/time-server-js:latest → time-server-js.
func shortName(uri string) string {
	base := path.Base(uri)
	if i := strings.IndexByte(base, '@'); i > 0 {
		base = base[:i] // a digest
	}
	if i := strings.LastIndexByte(base, ':'); i > 0 {
		base = base[:i] // a tag
	}
	return base
}

func registryGet(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return UsageError("registry get: want the name of a catalog component (see `tapedeck registry search`)")
	}
	name := args[0]
	catalog, err := assets.Catalog()
	if err != nil {
		return err
	}
	for _, e := range catalog {
		if strings.EqualFold(e.Name, name) || strings.EqualFold(shortName(e.URI), name) {
			return componentLoad(ctx, env, append([]string{e.URI}, args[1:]...))
		}
	}
	return fmt.Errorf("no component named %q in the catalog; `tapedeck registry search` lists them, and `tapedeck component load URI` loads one from anywhere", name)
}
