package cli

import (
	"context"

	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/mcpbridge"
)

// openOwner opens the data dir's Host for serve: a person is asked through
// the MCP client where it can show questions (elicitation: allow once only);
// elsewhere the server is headless.
func openOwner(ctx context.Context, env *Env, opts serveOptions) (*backendSetup, error) {
	o, err := owner.Open(ctx, owner.Options{
		Dirs:               opts.Dirs,
		Env:                opts.Env,
		AllowAgentGrants:   opts.AllowAgentGrants,
		TrustBundledPolicy: opts.TrustBundledPolicy,
		Prompter:           mcpbridge.ElicitationPrompter{},
	})
	if err != nil {
		return nil, err
	}
	catalog, err := owner.MCPCatalog()
	if err != nil {
		o.Close(ctx)
		return nil, err
	}
	return &backendSetup{Backend: o.Host, Catalog: catalog, Owner: o, Close: func() { o.Close(context.Background()) }}, nil
}
