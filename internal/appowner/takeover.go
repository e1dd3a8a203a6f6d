package appowner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/mcpbridge"
)

// takeOverPoll is how often the lock is tried while a take-over waits.
const takeOverPoll = 10 * time.Millisecond

// takeOver makes this process the owner of dataDir within timeout, asking
// each owner that holds it to hand over. Relays that lose the old owner
// wait for this process (the old owner names it in the lock file), but the
// owner can still change meanwhile: a relay of an older Tapedeck, one that
// gave up waiting, or a `tapedeck serve` started by hand may take the lock
// first. So the lock is tried often, to win it the moment it is free, and a
// new holder is asked to hand over too.
//
// It returns only once every request it started has ended, so that no
// goroutine of it outlives it, whatever ended it.
func takeOver(ctx context.Context, dataDir, socket string, timeout time.Duration) (*ownerlock.Lock, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	var asking sync.WaitGroup
	defer asking.Wait() // after cancel (defers run last first): the requests end then
	defer cancel()
	type answer struct {
		pid  int // the owner asked
		lock *ownerlock.Lock
		err  error
	}
	answers := make(chan answer)
	asked := map[int]bool{}
	for {
		lock, err := ownerlock.Acquire(dataDir)
		var held *ownerlock.HeldError
		if !errors.As(err, &held) {
			return lock, err
		}
		// A holder that has not recorded itself yet (pid 0) is asked once
		// it has. This process never holds the lock here, but a record
		// naming it would be one to wait out, not to ask.
		if pid := held.Owner.PID; pid != 0 && pid != os.Getpid() && !asked[pid] {
			asked[pid] = true
			asking.Go(func() {
				l, err := mcpbridge.TakeOver(tctx, dataDir, socket, "the desktop app")
				select {
				case answers <- answer{pid, l, err}:
				case <-tctx.Done():
					if l != nil {
						l.Close()
					}
				}
			})
		}
		select {
		case a := <-answers:
			if a.err == nil {
				return a.lock, nil
			}
			// A new owner may hold the lock before it listens: ask again.
			delete(asked, a.pid)
		case <-tctx.Done():
			return nil, waitError(ctx, held, timeout)
		case <-time.After(takeOverPoll):
		}
	}
}

// waitError says why a take-over that held ended without the lock: the
// caller gave up (ctx), or held did not hand over within timeout.
func waitError(ctx context.Context, held *ownerlock.HeldError, timeout time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the running Tapedeck to hand over: %w", context.Cause(ctx))
	}
	who := "the running Tapedeck"
	if held.Owner.PID != 0 {
		who = fmt.Sprintf("the running Tapedeck (pid %d)", held.Owner.PID)
	}
	return fmt.Errorf("%s did not hand %s over within %s (%w): it may still be finishing long calls; try again, or stop that process",
		who, held.Dir, timeout, context.DeadlineExceeded)
}
