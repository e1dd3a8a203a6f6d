package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/control"
	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

// controller is what the state verbs (component, policy, permission,
// secret, tool) need of a data dir. openController picks the way there:
// through the running owner's sockets, or — when nobody owns the data dir —
// by becoming its owner for the one command. Either way the same files
// change, so the state never forks.
type controller interface {
	List(ctx context.Context) ([]sandbox.ComponentInfo, error)
	Tools(ctx context.Context) ([]sandbox.ToolInfo, error)
	Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error)
	Unload(ctx context.Context, id string) error
	Policy(ctx context.Context, id string) (*sandbox.PolicyInfo, error)
	Grant(ctx context.Context, id string, p sandbox.Permission) error
	Revoke(ctx context.Context, id string, p sandbox.Permission) error
	Reset(ctx context.Context, id string) error
	Call(ctx context.Context, tool string, args json.RawMessage) (*sandbox.CallResult, error)
	SetEnabled(ctx context.Context, id string, enabled bool) error
	SecretList(ctx context.Context, id string) ([]string, error)
	SecretSet(ctx context.Context, id, key, value string) error
	SecretDelete(ctx context.Context, id, key string) error
	// Record appends a person's action to the activity log.
	Record(e activity.Entry) error
	Close() error
}

// person is how the verbs identify themselves to the Host: the person's own
// command, which the Host does not question (the verbs ask for confirmation
// themselves where it matters).
var person = sandbox.Client{Name: "tapedeck", Transport: "cli"}

// personLabel is how the activity log names the person's commands.
const personLabel = "tapedeck (command line)"

// dialTimeout bounds connecting to a running owner's sockets.
const dialTimeout = 5 * time.Second

// openController returns the way to the data dir's state for one command.
func openController(ctx context.Context, env *Env) (controller, error) {
	dirs, err := paths.Resolve(paths.Options{DataDir: env.DataDir, Getenv: env.Getenv})
	if err != nil {
		return nil, err
	}
	if err := paths.Ensure(dirs); err != nil {
		return nil, err
	}
	lock, err := ownerlock.Acquire(dirs.Data)
	var held *ownerlock.HeldError
	switch {
	case errors.As(err, &held):
		return dialOwner(ctx, paths.SocketPath(dirs), held.Owner.PID)
	case err != nil:
		return nil, err
	}
	o, err := owner.Open(ctx, owner.Options{Dirs: dirs})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("opening the data dir %s: %w", dirs.Data, err)
	}
	c := &localController{o: o, lock: lock}
	// The Host compiles stored components in the background; closing it
	// mid-compile would log a failure for each, and list would show them
	// "compiling". With the compilation cache this is quick.
	if err := c.awaitCompiled(ctx, ""); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// localController is this process owning the data dir for one command.
type localController struct {
	o    *owner.Owner
	lock *ownerlock.Lock
}

func (c *localController) List(context.Context) ([]sandbox.ComponentInfo, error) {
	return c.o.Host.List(), nil
}

func (c *localController) Tools(context.Context) ([]sandbox.ToolInfo, error) {
	return c.o.Host.Tools(), nil
}

func (c *localController) Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error) {
	opts.Client = person
	return c.o.Host.Load(ctx, uri, opts)
}

func (c *localController) Unload(ctx context.Context, id string) error {
	return c.o.Host.Unload(ctx, id, person)
}

func (c *localController) Policy(_ context.Context, id string) (*sandbox.PolicyInfo, error) {
	return c.o.Host.Policy(id)
}

func (c *localController) Grant(ctx context.Context, id string, p sandbox.Permission) error {
	return c.o.Host.Grant(ctx, id, p, person)
}

func (c *localController) Revoke(ctx context.Context, id string, p sandbox.Permission) error {
	return c.o.Host.Revoke(ctx, id, p, person)
}

func (c *localController) Reset(ctx context.Context, id string) error {
	return c.o.Host.Reset(ctx, id, person)
}

func (c *localController) Call(ctx context.Context, tool string, args json.RawMessage) (*sandbox.CallResult, error) {
	return c.o.Host.Call(ctx, sandbox.CallRequest{Tool: tool, Args: args, Client: person})
}

// awaitCompiled waits until component id (every component, when id is
// empty) has finished compiling, successfully or not.
func (c *localController) awaitCompiled(ctx context.Context, id string) error {
	for _, ci := range c.o.Host.List() {
		if id != "" && ci.ID != id {
			continue
		}
		if err := c.o.Host.AwaitCompiled(ctx, ci.ID); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil // a component that failed says so in list and in calls
}

func (c *localController) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return c.o.Host.SetEnabled(ctx, id, enabled, person)
}

func (c *localController) SecretList(_ context.Context, id string) ([]string, error) {
	if err := c.known(id); err != nil {
		return nil, err
	}
	return c.o.Secrets.List(id)
}

func (c *localController) SecretSet(_ context.Context, id, key, value string) error {
	if err := c.known(id); err != nil {
		return err
	}
	return c.o.Secrets.Set(id, key, value)
}

func (c *localController) SecretDelete(_ context.Context, id, key string) error {
	if err := c.known(id); err != nil {
		return err
	}
	return c.o.Secrets.Delete(id, key)
}

// known fails for an id no component has, so a typo never leaves a secret
// that nothing will ever read.
func (c *localController) known(id string) error {
	for _, ci := range c.o.Host.List() {
		if ci.ID == id {
			return nil
		}
	}
	return fmt.Errorf("%w %q (see `tapedeck component list`)", sandbox.ErrNoComponent, id)
}

func (c *localController) Record(e activity.Entry) error {
	e.Client = personLabel
	return c.o.Activity.Append(e)
}

func (c *localController) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(c.o.Close(ctx), c.lock.Close())
}

// remoteController reaches a running owner as an MCP client on its socket.
// What the built-in tools express goes through them. What needs the
// person's authority (grants, secrets, enable/disable, trusting a bundled
// policy) goes through the owner's control socket (package control)
// instead: a request on the MCP socket counts as an agent's.
type remoteController struct {
	cs  *mcp.ClientSession
	pid int
	// ctl is the owner's control socket; nil when the owner serves none.
	ctl *control.Client
}

func dialOwner(ctx context.Context, socket string, pid int) (*remoteController, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := localsock.Dial(dctx, socket)
	if err != nil {
		return nil, fmt.Errorf("Tapedeck is running%s but its socket %s does not answer (%v); wait a moment and try again, or stop that process", pidNote(pid), socket, err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "tapedeck-cli", Version: Version}, nil)
	cs, err := client.Connect(dctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to the running Tapedeck%s on %s: %w", pidNote(pid), socket, err)
	}
	rc := &remoteController{cs: cs, pid: pid}
	// An owner that serves no control socket still serves everything
	// else; needsPerson says what to do for the rest.
	if ctl, err := control.Dial(dctx, control.SocketPath(socket)); err == nil {
		rc.ctl = ctl
	}
	return rc, nil
}

func pidNote(pid int) string {
	if pid == 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// needsPerson is the error for what only the person may do, asked of a
// running owner that serves no control socket.
func (c *remoteController) needsPerson(what string) error {
	return fmt.Errorf("Tapedeck is running%s and owns this data dir, and it takes no %s from the command line (it serves no control socket); use the Tapedeck tray, or stop that process and run this command again", pidNote(c.pid), what)
}

// control sends a request that needs the person's authority.
func (c *remoteController) control(ctx context.Context, what string, req control.Request) (*control.Response, error) {
	if c.ctl == nil {
		return nil, c.needsPerson(what)
	}
	return c.ctl.Do(ctx, req)
}

// builtin calls a built-in tool and decodes its JSON reply into out.
func (c *remoteController) builtin(ctx context.Context, name string, args any, out any) error {
	res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return fmt.Errorf("asking the running Tapedeck%s (%s): %w", pidNote(c.pid), name, err)
	}
	if res.IsError {
		return errors.New(resultText(res))
	}
	if out == nil {
		return nil
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return fmt.Errorf("reading the reply of %s: %w", name, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("reading the reply of %s: %w", name, err)
	}
	return nil
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func (c *remoteController) List(ctx context.Context) ([]sandbox.ComponentInfo, error) {
	var reply struct {
		Components []struct {
			ID     string `json:"id"`
			State  string `json:"state"`
			Error  string `json:"error"`
			Schema struct {
				Tools []sandbox.ToolInfo `json:"tools"`
			} `json:"schema"`
		} `json:"components"`
	}
	if err := c.builtin(ctx, "list-components", map[string]any{}, &reply); err != nil {
		return nil, err
	}
	out := make([]sandbox.ComponentInfo, 0, len(reply.Components))
	for _, rc := range reply.Components {
		ci := sandbox.ComponentInfo{ID: rc.ID, State: sandbox.State(rc.State), Error: rc.Error,
			Enabled: rc.State != string(sandbox.StateDisabled), Tools: rc.Schema.Tools}
		for i := range ci.Tools {
			ci.Tools[i].Component = rc.ID
		}
		out = append(out, ci)
	}
	return out, nil
}

func (c *remoteController) Tools(ctx context.Context) ([]sandbox.ToolInfo, error) {
	comps, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []sandbox.ToolInfo
	for _, ci := range comps {
		if ci.Enabled && ci.State != sandbox.StateFailed {
			out = append(out, ci.Tools...)
		}
	}
	return out, nil
}

func (c *remoteController) Load(ctx context.Context, uri string, opts sandbox.LoadOptions) (*sandbox.LoadResult, error) {
	if opts.TrustBundledPolicy {
		resp, err := c.control(ctx, "trust in a bundled policy (--trust-bundled-policy)", control.Request{Op: control.OpLoadTrusted, URI: uri})
		if err != nil {
			return nil, err
		}
		return resp.Load, nil
	}
	var reply struct {
		Status string   `json:"status"`
		ID     string   `json:"id"`
		Tools  []string `json:"tools"`
		Notes  []string `json:"notes"`
	}
	if err := c.builtin(ctx, "load-component", map[string]any{"path": uri}, &reply); err != nil {
		return nil, err
	}
	res := &sandbox.LoadResult{Reloaded: strings.Contains(reply.Status, "reloaded"), Notes: reply.Notes,
		Component: sandbox.ComponentInfo{ID: reply.ID, Source: uri, State: sandbox.StateReady, Enabled: true}}
	for _, name := range reply.Tools {
		res.Component.Tools = append(res.Component.Tools, sandbox.ToolInfo{Name: name, Component: reply.ID})
	}
	return res, nil
}

func (c *remoteController) Unload(ctx context.Context, id string) error {
	return c.builtin(ctx, "unload-component", map[string]any{"id": id}, nil)
}

func (c *remoteController) Policy(ctx context.Context, id string) (*sandbox.PolicyInfo, error) {
	var reply struct {
		PolicyInfo struct {
			Path    string `json:"local_path"`
			Content string `json:"policy_content"`
		} `json:"policy_info"`
	}
	if err := c.builtin(ctx, "get-policy", map[string]any{"component_id": id}, &reply); err != nil {
		return nil, err
	}
	return &sandbox.PolicyInfo{ComponentID: id, YAML: reply.PolicyInfo.Content, Path: reply.PolicyInfo.Path}, nil
}

func (c *remoteController) Grant(ctx context.Context, id string, p sandbox.Permission) error {
	_, err := c.control(ctx, "grants", control.Request{Op: control.OpGrant, Component: id, Permission: &p})
	return err
}

func (c *remoteController) Revoke(ctx context.Context, id string, p sandbox.Permission) error {
	details := map[string]any{}
	switch p.Kind {
	case sandbox.PermissionStorage:
		details["uri"] = p.URI
		if len(p.Access) > 0 {
			details["access"] = p.Access
		}
	case sandbox.PermissionNetwork:
		details["host"] = p.Host
	case sandbox.PermissionEnvironment:
		details["key"] = p.Key
	default:
		return fmt.Errorf("cannot revoke a %q permission (storage, network or environment-variable)", p.Kind)
	}
	return c.builtin(ctx, "revoke-"+string(p.Kind)+"-permission", map[string]any{"component_id": id, "details": details}, nil)
}

func (c *remoteController) Reset(ctx context.Context, id string) error {
	return c.builtin(ctx, "reset-permission", map[string]any{"component_id": id}, nil)
}

func (c *remoteController) Call(ctx context.Context, tool string, args json.RawMessage) (*sandbox.CallResult, error) {
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	start := time.Now()
	res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return nil, fmt.Errorf("calling %s on the running Tapedeck%s: %w", tool, pidNote(c.pid), err)
	}
	out := &sandbox.CallResult{Text: resultText(res), IsError: res.IsError, Duration: time.Since(start)}
	if res.StructuredContent != nil {
		if raw, err := json.Marshal(res.StructuredContent); err == nil {
			out.Structured = raw
		}
	}
	return out, nil
}

func (c *remoteController) SetEnabled(ctx context.Context, id string, enabled bool) error {
	_, err := c.control(ctx, "enable/disable", control.Request{Op: control.OpSetEnabled, Component: id, Enabled: enabled})
	return err
}

func (c *remoteController) SecretList(ctx context.Context, id string) ([]string, error) {
	resp, err := c.control(ctx, "secrets", control.Request{Op: control.OpSecretList, Component: id})
	if err != nil {
		return nil, err
	}
	return resp.Keys, nil
}

func (c *remoteController) SecretSet(ctx context.Context, id, key, value string) error {
	_, err := c.control(ctx, "secrets", control.Request{Op: control.OpSecretSet, Component: id, Key: key, Value: value})
	return err
}

func (c *remoteController) SecretDelete(ctx context.Context, id, key string) error {
	_, err := c.control(ctx, "secrets", control.Request{Op: control.OpSecretDelete, Component: id, Key: key})
	return err
}

// Record appends to the owner's log through the control socket: the owner
// holds the log open, so this process must not write it. Without a control
// socket nothing that records can have happened.
func (c *remoteController) Record(e activity.Entry) error {
	if c.ctl == nil {
		return nil
	}
	e.Client = personLabel
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	_, err := c.ctl.Do(ctx, control.Request{Op: control.OpRecord, Entry: &e})
	return err
}

func (c *remoteController) Close() error {
	var errs []error
	if c.ctl != nil {
		errs = append(errs, c.ctl.Close())
	}
	// The session's end closes the connection; a second close of it is
	// not a failure of the command.
	if err := c.cs.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
