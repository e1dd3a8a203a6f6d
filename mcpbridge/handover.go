package mcpbridge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/sandbox"
)

// HandoverMethod is the JSON-RPC method a process sends on the owner's
// socket to take ownership over (the tray app started after a headless
// owner). The owner answers, stops accepting connections, lets calls in
// flight finish, closes its sessions and releases the data dir's lock;
// relays then reconnect to the new owner and replay their sessions.
const HandoverMethod = "tapedeck/handover"

// HandoverParams are HandoverMethod's parameters.
type HandoverParams struct {
	mcp.ParamsBase
	// By names who asks, for the owner's log: "Tapedeck app (pid 812)".
	By string `json:"by,omitempty"`
	// PID is the asking process, which the owner records as its successor
	// (ownerlock.Lock.HandingOver) so that relays wait for it. It is not
	// checked against the socket's peer (the app shares the relay's
	// executable, and peercred is not everywhere); a process of this user
	// naming another pid can only make relays wait, for a bounded time.
	PID int `json:"pid,omitempty"`
}

// HandoverResult is HandoverMethod's answer.
type HandoverResult struct {
	mcp.ResultBase
	// PID is the process that will release the lock.
	PID int `json:"pid"`
}

// addHandover answers HandoverMethod on socket sessions by calling
// onHandover once, with the asking process's pid, after the answer has
// reached the asker.
func (s *Server) addHandover(onHandover func(taker int)) {
	var once = make(chan struct{}, 1)
	once <- struct{}{}
	err := mcp.AddReceivingCustomMethod(s.mcp, HandoverMethod, func(ctx context.Context, _ *mcp.ServerSession, p *HandoverParams) (*HandoverResult, error) {
		peer, _ := ctx.Value(peerKey{}).(sandbox.Client)
		if peer.Transport != "socket" {
			// Only a process of this user on the local socket may take over.
			return nil, fmt.Errorf("%s is only accepted on the local socket", HandoverMethod)
		}
		select {
		case <-once:
			s.logger.Info("handing ownership over", "to", p.By, "pid", p.PID, "client", peer.String())
			// onHandover drains (Server.Drain), which waits for this
			// answer to be written before the sessions end.
			go onHandover(p.PID)
		default:
		}
		return &HandoverResult{PID: os.Getpid()}, nil
	})
	if err != nil {
		panic(fmt.Sprintf("registering %s: %v", HandoverMethod, err)) // only if the name were a standard method
	}
}

// TakeOver makes this process the owner of dataDir: at once when nobody
// owns it, else by asking the owner serving socket to hand over and
// waiting (until ctx is done) for it to release the lock. The tray app
// calls it at start; by names the caller in the old owner's log. The old
// owner records this process as its successor in the lock file, so that
// editors' relays (relay.Options.DataDir) wait for this process's socket
// instead of starting another owner: call ListenSocket soon after.
//
// # Errors
//
// ctx's error when the owner did not let go in time (it may be finishing
// long calls; it goes on serving then), errors from the socket or lock.
func TakeOver(ctx context.Context, dataDir, socket, by string) (*ownerlock.Lock, error) {
	lock, err := ownerlock.Acquire(dataDir)
	if !errors.Is(err, ownerlock.ErrHeld) {
		return lock, err
	}
	if err := requestHandover(ctx, socket, by); err != nil {
		return nil, fmt.Errorf("asking the running Tapedeck to hand over: %w", err)
	}
	delay := 20 * time.Millisecond
	for {
		lock, err := ownerlock.Acquire(dataDir)
		if !errors.Is(err, ownerlock.ErrHeld) {
			return lock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the running Tapedeck to hand over: %w (%v); it may still be finishing long calls: try again, or stop that process", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// requestHandover sends HandoverMethod on socket.
func requestHandover(ctx context.Context, socket, by string) error {
	conn, err := localsock.Dial(ctx, socket)
	if err != nil {
		return err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "tapedeck-handover", Version: "1"}, nil)
	if err := mcp.AddSendingCustomMethod[*HandoverParams, *HandoverResult](client, HandoverMethod); err != nil {
		conn.Close()
		return err
	}
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		conn.Close()
		return err
	}
	defer cs.Close()
	_, err = mcp.CallCustomMethod[*HandoverParams, *HandoverResult](ctx, cs, HandoverMethod, &HandoverParams{By: by, PID: os.Getpid()})
	return err
}
