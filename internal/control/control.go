// Package control is the person's own way into a running owner: a local
// socket beside the MCP socket (a unix socket, or on Windows a named pipe;
// see package localsock), serving the few requests that need the person's
// authority — grants, secrets, enabling and disabling, loads that trust a
// bundled policy — for the command line while the tray app or `tapedeck
// serve` owns the data dir.
//
// It is a socket of its own because the MCP socket carries editors'
// sessions: `tapedeck mcp` relays an editor's bytes there unchanged, so a
// request on it may come from an agent. Relays never connect here. Only
// processes of the owner's OS user may connect: the peer is checked on
// every connection (its uid on unix; on Windows the pipe admits only the
// user's SID and its client's token is checked), and the unix socket is
// 0600 in the 0700 runtime folder.
//
// The protocol is newline-delimited JSON: one Request, one Response, any
// number of times per connection.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/owner"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/sandbox"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

// SocketPath is the control socket's path for the MCP socket at mcpSocket
// (paths.SocketPath): the same folder and name, ending .ctl (no longer
// than the MCP socket's path, so it fits a unix address whenever that
// does). A Windows pipe name has no .sock to replace, so it gains .ctl:
// \\.\pipe\tapedeck-<user>-<hash>.ctl, one per data dir as the MCP
// pipe is.
func SocketPath(mcpSocket string) string {
	return strings.TrimSuffix(mcpSocket, ".sock") + ".ctl"
}

// Ops a Request may ask for.
const (
	OpGrant        = "grant"
	OpSetEnabled   = "set-enabled"
	OpSecretList   = "secret-list"
	OpSecretSet    = "secret-set"
	OpSecretDelete = "secret-delete"
	OpLoadTrusted  = "load-trusted" // a load that applies the policy bundled with the component
	OpRecord       = "record"       // append a person's action to the activity log
)

// Request is one request. Which fields matter depends on Op.
type Request struct {
	Op         string              `json:"op"`
	Component  string              `json:"component,omitempty"`
	Permission *sandbox.Permission `json:"permission,omitempty"`
	Enabled    bool                `json:"enabled,omitempty"`
	Key        string              `json:"key,omitempty"`
	Value      string              `json:"value,omitempty"` // a secret's value: never logged
	URI        string              `json:"uri,omitempty"`
	Entry      *activity.Entry     `json:"entry,omitempty"`
}

// Response answers a Request: Error is empty on success.
type Response struct {
	Error string              `json:"error,omitempty"`
	Keys  []string            `json:"keys,omitempty"`
	Load  *sandbox.LoadResult `json:"load,omitempty"`
}

// maxRequestSize caps one request line; the largest is a secret's value.
const maxRequestSize = 1 << 20

// person is who the Host is told acts: the person's own command.
var person = sandbox.Client{Name: "tapedeck", Transport: "cli"}

// Listen listens on the control socket at path (SocketPath) for the owner
// of a data dir; lock is that ownership. The rules are the MCP socket's
// (localsock.Listen): this user only, a dead owner's stale socket file
// removed, anything else at path refused.
func Listen(path string, lock *ownerlock.Lock) (net.Listener, error) {
	return localsock.Listen(path, lock)
}

// Serve answers requests on ln with o's Host, secrets and log until ctx is
// done; it closes ln and every connection before it returns, and returns
// nil when ctx ended it. Connections from another OS user, or whose peer
// cannot be known (localsock.Peer), are closed at once: ln should come
// from Listen.
func Serve(ctx context.Context, ln net.Listener, o *owner.Owner) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	conns := map[net.Conn]struct{}{}
	var mu sync.Mutex
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(50 * time.Millisecond) // out of descriptors: wait, as net/http does
				continue
			}
			return fmt.Errorf("accepting on the control socket: %w", err)
		}
		if _, err := localsock.Peer(conn); err != nil {
			conn.Close()
			continue
		}
		mu.Lock()
		conns[conn] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveConn(ctx, conn, o)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
			conn.Close()
		}()
	}
}

func serveConn(ctx context.Context, conn net.Conn, o *owner.Owner) {
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 64<<10), maxRequestSize)
	enc := json.NewEncoder(conn)
	for sc.Scan() {
		var req Request
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = "not a control request: " + err.Error()
		} else {
			resp = handle(ctx, o, req)
		}
		if enc.Encode(&resp) != nil {
			return
		}
	}
}

// handle does one request.
func handle(ctx context.Context, o *owner.Owner, req Request) Response {
	var resp Response
	var err error
	switch req.Op {
	case OpGrant:
		if req.Permission == nil {
			err = errors.New("a grant needs a permission")
			break
		}
		err = o.Host.Grant(ctx, req.Component, *req.Permission, person)
	case OpSetEnabled:
		err = o.Host.SetEnabled(ctx, req.Component, req.Enabled, person)
	case OpSecretList:
		if err = known(o, req.Component); err == nil {
			resp.Keys, err = o.Secrets.List(req.Component)
		}
	case OpSecretSet:
		if err = known(o, req.Component); err == nil {
			err = o.Secrets.Set(req.Component, req.Key, req.Value)
		}
	case OpSecretDelete:
		if err = known(o, req.Component); err == nil {
			err = o.Secrets.Delete(req.Component, req.Key)
		}
	case OpLoadTrusted:
		resp.Load, err = o.Host.Load(ctx, req.URI, sandbox.LoadOptions{Client: person, TrustBundledPolicy: true})
	case OpRecord:
		if req.Entry == nil {
			err = errors.New("a record needs an entry")
			break
		}
		err = o.Activity.Append(*req.Entry)
	default:
		err = fmt.Errorf("unknown control request %q; is this Tapedeck older than the command?", req.Op)
	}
	if err != nil {
		resp.Error = err.Error()
	}
	return resp
}

// known fails for an id no component has, so a typo never leaves a secret
// that nothing will read.
func known(o *owner.Owner, id string) error {
	for _, ci := range o.Host.List() {
		if ci.ID == id {
			return nil
		}
	}
	return fmt.Errorf("%w %q (see `tapedeck component list`)", sandbox.ErrNoComponent, id)
}

// Client sends requests to a running owner's control socket. It is not
// safe for concurrent use.
type Client struct {
	conn net.Conn
	sc   *bufio.Scanner
}

// Dial connects to the control socket at path (SocketPath); on Windows it
// also checks that the pipe's server runs as this user (localsock.Dial).
func Dial(ctx context.Context, path string) (*Client, error) {
	conn, err := localsock.Dial(ctx, path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 64<<10), maxRequestSize)
	return &Client{conn: conn, sc: sc}, nil
}

// Do sends req and returns the owner's response; a response's Error comes
// back as an error.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	defer stop()
	line, err := json.Marshal(&req)
	if err != nil {
		return nil, fmt.Errorf("encoding the control request: %w", err)
	}
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("sending to the running Tapedeck: %w", err)
	}
	if !c.sc.Scan() {
		err := c.sc.Err()
		if err == nil {
			err = errors.New("it closed the connection")
		}
		return nil, fmt.Errorf("reading the running Tapedeck's answer: %w", err)
	}
	var resp Response
	if err := json.Unmarshal(c.sc.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("reading the running Tapedeck's answer: %w", err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }
