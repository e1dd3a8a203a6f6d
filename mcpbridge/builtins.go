package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/sandbox"
)

// builtin is one of Wassette's built-in tools. The names, argument schemas
// and reply shapes are the compatibility contract (WASSETTE-COMPAT.md).
type builtin struct {
	name        string
	description string
	schema      string // the input JSON Schema
	readOnly    bool
	destructive bool
	openWorld   bool
	run         func(s *Server, ctx context.Context, req *mcp.CallToolRequest, args json.RawMessage) (*mcp.CallToolResult, error)
}

const componentIDSchema = `{"type":"object","properties":{"component_id":{"type":"string","description":"The id of the component, as list-components shows it"}},"required":["component_id"]}`

// detailsSchema is a grant or revoke tool's input schema around details.
func detailsSchema(details string) string {
	return `{"type":"object","properties":{"component_id":{"type":"string","description":"The id of the component, as list-components shows it"},"details":` +
		details + `},"required":["component_id","details"]}`
}

const (
	storageGrantDetails  = `{"type":"object","properties":{"uri":{"type":"string","description":"The location, e.g. fs:///home/me/project/**"},"access":{"type":"array","items":{"type":"string","enum":["read","write"]},"minItems":1}},"required":["uri","access"],"additionalProperties":false}`
	storageRevokeDetails = `{"type":"object","properties":{"uri":{"type":"string","description":"The location whose access to remove"}},"required":["uri"],"additionalProperties":false}`
	networkDetails       = `{"type":"object","properties":{"host":{"type":"string","description":"A host name such as api.example.com, *.example.org, or a URL that pins the scheme"}},"required":["host"],"additionalProperties":false}`
	envDetails           = `{"type":"object","properties":{"key":{"type":"string","description":"The environment variable's name"}},"required":["key"],"additionalProperties":false}`
)

// builtinTools returns the built-in tools, in the order tools/list shows them.
func builtinTools() []builtin {
	return []builtin{
		{
			name:        "load-component",
			description: "Load a WebAssembly component from a file path or a file://, https:// or oci:// URI, and offer its functions as tools. Reloads when the id is already loaded.",
			schema:      `{"type":"object","properties":{"path":{"type":"string","description":"A file path or a file://, https:// or oci:// URI"}},"required":["path"]}`,
			destructive: true, openWorld: true,
			run: (*Server).loadComponent,
		},
		{
			name:        "unload-component",
			description: "Unload a component: its tools go away and its files are removed.",
			schema:      `{"type":"object","properties":{"id":{"type":"string","description":"The id of the component, as list-components shows it"}},"required":["id"]}`,
			destructive: true,
			run:         (*Server).unloadComponent,
		},
		{
			name:        "list-components",
			description: "List the loaded components and their tools.",
			schema:      `{"type":"object","properties":{}}`,
			readOnly:    true,
			run:         (*Server).listComponents,
		},
		{
			name:        "search-components",
			description: "Search the catalog of known components by name, description or URI; an empty query lists them all.",
			schema:      `{"type":"object","properties":{"query":{"type":"string","description":"Words to look for"}}}`,
			readOnly:    true,
			run:         (*Server).searchComponents,
		},
		{
			name:        "get-policy",
			description: "Show a component's policy: what files, hosts and environment variables it may use.",
			schema:      componentIDSchema,
			readOnly:    true,
			run:         (*Server).getPolicy,
		},
		grantTool(sandbox.PermissionStorage, "storage", storageGrantDetails, "Ask the person to let a component read or write a location."),
		grantTool(sandbox.PermissionNetwork, "network", networkDetails, "Ask the person to let a component reach a host."),
		grantTool(sandbox.PermissionEnvironment, "environment-variable", envDetails, "Ask the person to let a component read an environment variable."),
		revokeTool(sandbox.PermissionStorage, "storage", storageRevokeDetails, "Remove a component's access to a location."),
		revokeTool(sandbox.PermissionNetwork, "network", networkDetails, "Remove a component's access to a host."),
		revokeTool(sandbox.PermissionEnvironment, "environment-variable", envDetails, "Remove a component's access to an environment variable."),
		{
			name:        "reset-permission",
			description: "Remove every permission a component was granted.",
			schema:      componentIDSchema,
			destructive: true,
			run:         (*Server).resetPermission,
		},
	}
}

// isBuiltin reports whether name is a built-in tool's name.
func isBuiltin(name string) bool {
	for _, b := range builtinTools() {
		if b.name == name {
			return true
		}
	}
	return false
}

// addBuiltins registers the built-in tools. The schemas are constants, so
// a failure to resolve one is a bug caught by every test.
func (s *Server) addBuiltins() {
	for _, b := range builtinTools() {
		resolved, err := resolveSchema(json.RawMessage(b.schema))
		if err != nil {
			panic(fmt.Sprintf("built-in tool %s: %v", b.name, err))
		}
		readOnly, destructive, openWorld := b.readOnly, b.destructive, b.openWorld
		tool := &mcp.Tool{
			Name:        b.name,
			Description: b.description,
			InputSchema: json.RawMessage(b.schema),
			Annotations: &mcp.ToolAnnotations{
				ReadOnlyHint:    readOnly,
				DestructiveHint: &destructive,
				OpenWorldHint:   &openWorld,
				IdempotentHint:  readOnly,
			},
		}
		run := b.run
		s.mcp.AddTool(tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.calls.Add(1)
			defer s.calls.Done()
			args, err := validateArgs(resolved, req.Params.Arguments)
			if err != nil {
				return errorResult(fmt.Sprintf("arguments for %s rejected: %v", tool.Name, err)), nil
			}
			return run(s, ctx, req, args)
		})
	}
}

// decode unmarshals validated arguments into v.
func decode[T any](args json.RawMessage) (T, error) {
	var v T
	if err := json.Unmarshal(args, &v); err != nil {
		return v, fmt.Errorf("reading the arguments: %w", err)
	}
	return v, nil
}

func (s *Server) loadComponent(ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
	args, err := decode[struct {
		Path string `json:"path"`
	}](raw)
	if err != nil {
		return nil, err
	}
	opts := sandbox.LoadOptions{Client: clientOf(ctx, req), TrustBundledPolicy: s.opts.TrustBundledPolicy}
	if token := req.Params.GetProgressToken(); token != nil && req.Session != nil {
		opts.Progress = s.progressReporter(ctx, req.Session, token, args.Path)
	}
	seen, gen := s.listChangedCount(req.Session), s.toolsGeneration()
	res, err := s.backend.Load(ctx, args.Path, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return errorResult(fmt.Sprintf("loading %s failed: %v", args.Path, err)), nil
	}
	// The Host's loaded event syncs too, maybe first; syncing here as well
	// and waiting for the notification whoever synced means the reply never
	// overtakes the tool list it announces.
	s.syncTools()
	if s.toolsGeneration() != gen {
		s.awaitListChanged(ctx, req, seen)
	}
	status := "component loaded successfully"
	if res.Reloaded {
		status = "component reloaded successfully"
	}
	names := []string{}
	for _, t := range res.Component.Tools {
		names = append(names, t.Name)
	}
	reply := map[string]any{"status": status, "id": res.Component.ID, "tools": names}
	if len(res.Notes) > 0 {
		reply["notes"] = res.Notes
	}
	return jsonResult(reply)
}

// progressReporter sends progress notifications for a load, at most one
// per whole percent (or per 64 KiB when the size is unknown) so a fast
// download does not flood the client.
func (s *Server) progressReporter(ctx context.Context, ss *mcp.ServerSession, token any, what string) func(done, total int64) {
	var mu sync.Mutex // the Host may report from more than one goroutine
	var last int64 = -1
	return func(done, total int64) {
		step := done / (64 << 10)
		if total > 0 {
			step = done * 100 / total
		}
		mu.Lock()
		if step == last && done != total {
			mu.Unlock()
			return
		}
		last = step
		mu.Unlock()
		p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(done), Message: "loading " + what}
		if total > 0 {
			p.Total = float64(total)
		}
		if err := ss.NotifyProgress(ctx, p); err != nil {
			s.logger.Debug("sending progress", "error", err)
		}
	}
}

func (s *Server) unloadComponent(ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
	args, err := decode[struct {
		ID string `json:"id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	seen, gen := s.listChangedCount(req.Session), s.toolsGeneration()
	if err := s.backend.Unload(ctx, args.ID, clientOf(ctx, req)); err != nil {
		return errorResult(fmt.Sprintf("unloading %s failed: %v", args.ID, err)), nil
	}
	s.syncTools()
	if s.toolsGeneration() != gen {
		s.awaitListChanged(ctx, req, seen)
	}
	return jsonResult(map[string]any{"status": "component unloaded successfully", "id": args.ID})
}

// listedTool is a tool as list-components shows it.
type listedTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
}

func (s *Server) listComponents(ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
	type listed struct {
		ID         string `json:"id"`
		ToolsCount int    `json:"tools_count"`
		Schema     struct {
			Tools []listedTool `json:"tools"`
		} `json:"schema"`
		State string `json:"state,omitempty"`
		Error string `json:"error,omitempty"`
	}
	components := []listed{}
	for _, c := range s.backend.List() {
		l := listed{ID: c.ID, ToolsCount: len(c.Tools), State: string(c.State), Error: c.Error}
		l.Schema.Tools = []listedTool{}
		for _, t := range c.Tools {
			in := t.InputSchema
			if len(in) == 0 {
				in = emptyObjectSchema
			}
			l.Schema.Tools = append(l.Schema.Tools, listedTool{Name: t.Name, Description: t.Description, InputSchema: in, OutputSchema: t.OutputSchema})
		}
		components = append(components, l)
	}
	return jsonResult(map[string]any{"components": components, "total": len(components)})
}

func (s *Server) searchComponents(ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
	args, err := decode[struct {
		Query string `json:"query"`
	}](raw)
	if err != nil {
		return nil, err
	}
	return jsonResult(map[string]any{"status": "Component list found", "components": searchCatalog(s.opts.Catalog, args.Query)})
}

func (s *Server) getPolicy(ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
	args, err := decode[struct {
		ComponentID string `json:"component_id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	p, err := s.backend.Policy(args.ComponentID)
	if err != nil {
		return errorResult(fmt.Sprintf("reading the policy of %s failed: %v", args.ComponentID, err)), nil
	}
	if p == nil || p.YAML == "" {
		return jsonResult(map[string]any{"status": "no policy found", "component_id": args.ComponentID,
			"message": "this component has no policy: it may use no files, hosts or environment variables"})
	}
	return jsonResult(map[string]any{"status": "policy found", "component_id": args.ComponentID,
		"policy_info": map[string]any{"component_id": p.ComponentID, "local_path": p.Path, "policy_content": p.YAML}})
}

// permissionLabel is the permission_type word Wassette's replies use.
func permissionLabel(k sandbox.PermissionKind) string {
	if k == sandbox.PermissionEnvironment {
		return "environment variable"
	}
	return string(k)
}

// permissionArgs are the arguments of every grant-* and revoke-* tool.
type permissionArgs struct {
	ComponentID string `json:"component_id"`
	Details     struct {
		URI    string   `json:"uri,omitempty"`
		Access []string `json:"access,omitempty"`
		Host   string   `json:"host,omitempty"`
		Key    string   `json:"key,omitempty"`
	} `json:"details"`
}

func (a permissionArgs) permission(kind sandbox.PermissionKind) sandbox.Permission {
	return sandbox.Permission{Kind: kind, URI: a.Details.URI, Access: a.Details.Access, Host: a.Details.Host, Key: a.Details.Key}
}

func grantTool(kind sandbox.PermissionKind, word, details, description string) builtin {
	return builtin{
		name:        "grant-" + word + "-permission",
		description: description + " The person is asked; an agent cannot grant itself anything.",
		schema:      detailsSchema(details),
		run: func(s *Server, ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
			args, err := decode[permissionArgs](raw)
			if err != nil {
				return nil, err
			}
			p := args.permission(kind)
			if err := s.backend.Grant(ctx, args.ComponentID, p, clientOf(ctx, req)); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return errorResult(grantFailure(args.ComponentID, p, err)), nil
			}
			return jsonResult(map[string]any{"status": "permission granted successfully", "component_id": args.ComponentID,
				"permission_type": permissionLabel(kind), "details": args.Details})
		},
	}
}

func revokeTool(kind sandbox.PermissionKind, word, details, description string) builtin {
	return builtin{
		name:        "revoke-" + word + "-permission",
		description: description,
		schema:      detailsSchema(details),
		destructive: true,
		run: func(s *Server, ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
			args, err := decode[permissionArgs](raw)
			if err != nil {
				return nil, err
			}
			if err := s.backend.Revoke(ctx, args.ComponentID, args.permission(kind), clientOf(ctx, req)); err != nil {
				return errorResult(fmt.Sprintf("revoking %s permission of %s failed: %v", permissionLabel(kind), args.ComponentID, err)), nil
			}
			return jsonResult(map[string]any{"status": "permission revoked successfully", "component_id": args.ComponentID,
				"permission_type": permissionLabel(kind), "details": args.Details})
		},
	}
}

func (s *Server) resetPermission(ctx context.Context, req *mcp.CallToolRequest, raw json.RawMessage) (*mcp.CallToolResult, error) {
	args, err := decode[struct {
		ComponentID string `json:"component_id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if err := s.backend.Reset(ctx, args.ComponentID, clientOf(ctx, req)); err != nil {
		return errorResult(fmt.Sprintf("resetting the permissions of %s failed: %v", args.ComponentID, err)), nil
	}
	return jsonResult(map[string]any{"status": "permissions reset successfully", "component_id": args.ComponentID})
}

// grantFailure says in words why a grant did not happen and what a person
// can do instead.
func grantFailure(id string, p sandbox.Permission, err error) string {
	switch {
	case errors.Is(err, sandbox.ErrAgentGrantRefused), errors.Is(err, sandbox.ErrNoOneToAsk):
		return fmt.Sprintf("refused: headless Tapedeck does not let agents grant permissions; run `%s` or start Tapedeck with --allow-agent-grants",
			cliGrant(id, p))
	case errors.Is(err, sandbox.ErrDenied):
		return fmt.Sprintf("not granted: the person denied it (%v)", err)
	case errors.Is(err, sandbox.ErrNoComponent):
		return fmt.Sprintf("not granted: no component has the id %q; list-components shows the loaded ones", id)
	}
	return fmt.Sprintf("granting %s permission to %s failed: %v", permissionLabel(p.Kind), id, err)
}

// cliGrant is the command line that grants p to id.
func cliGrant(id string, p sandbox.Permission) string {
	switch p.Kind {
	case sandbox.PermissionStorage:
		return fmt.Sprintf("tapedeck permission grant storage %s %s --access %s", id, p.URI, strings.Join(p.Access, ","))
	case sandbox.PermissionNetwork:
		return fmt.Sprintf("tapedeck permission grant network %s %s", id, p.Host)
	case sandbox.PermissionEnvironment:
		return fmt.Sprintf("tapedeck permission grant environment-variable %s %s", id, p.Key)
	}
	return fmt.Sprintf("tapedeck permission grant %s %s", p.Kind, id)
}
