package relay

import (
	"os"
	"slices"
	"time"

	"tapedeck.dev/tapedeck/internal/ownerlock"
)

// comingOwner is what the data dir's lock file says about who will serve
// next: the process taking ownership over (the tray app after a headless
// owner: Owner.Next) and the owner recorded. The zero value names none.
//
// While one of them runs and the socket does not answer, the owner is
// handing over, starting, or on its way out, and an owner the relay
// started now would race the taker for the lock (the old owner's lock is
// free for a moment between its release and the taker's next try, and a
// headless owner could win it) or find the lock still held and quit. The
// taker may already hold the lock when the relay looks, so the record then
// names it as the owner, not as Next.
type comingOwner struct {
	pids []int
	// until ends the wait, so that a process that hangs, or a crashed
	// owner's pid now used by another program, delays a new owner by one
	// Options.Wait only.
	until time.Time
}

// findComingOwner reads Options.DataDir's lock file. Any failure to read
// it means none: the relay then starts an owner, as it would with no lock
// file. This process (an owner serving in the same process, in tests) is
// never waited for.
func (r *relay) findComingOwner() comingOwner {
	if r.opts.DataDir == "" {
		return comingOwner{}
	}
	o, _, err := ownerlock.ReadOwner(r.opts.DataDir)
	if err != nil {
		return comingOwner{}
	}
	var c comingOwner
	for _, pid := range []int{o.Next.PID, o.PID} {
		if pid > 0 && pid != os.Getpid() {
			c.pids = append(c.pids, pid)
		}
	}
	c.until = time.Now().Add(r.opts.Wait)
	return c
}

// awaited reports whether the relay should still wait rather than start an
// owner: a process the lock file named runs, and the wait has not passed.
func (c comingOwner) awaited() bool {
	return time.Now().Before(c.until) && slices.ContainsFunc(c.pids, processRunning)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
