// Package ownerlock makes exactly one process the owner of a data dir.
//
// The owner holds an exclusive, non-blocking lock on <dir>/owner.lock (flock
// on unix, LockFileEx on Windows) and writes its pid and the time it took
// ownership into the file so that `tapedeck doctor` can name it; an owner
// handing over also writes the process taking over (Lock.HandingOver), for
// relays to wait for. Every other process is a client of the owner. The OS
// drops the lock when the owner exits, however it exits, so a crashed owner
// never blocks the next one.
//
//	lock, err := ownerlock.Acquire(dataDir)
//	var held *ownerlock.HeldError
//	switch {
//	case errors.As(err, &held):
//		// someone else owns it: connect to its socket (held.Owner.PID for messages)
//	case err != nil:
//		return err
//	}
//	defer lock.Close()
package ownerlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileName is the lock file's name inside the data dir.
const FileName = "owner.lock"

// ErrHeld reports that another process owns the data dir. Errors from
// Acquire that match it are *HeldError, which names the owner.
var ErrHeld = errors.New("data dir is owned by another process")

// Owner describes the process that holds a lock.
type Owner struct {
	PID     int       `json:"pid,omitzero"`
	Started time.Time `json:"started,omitzero"` // when it took ownership
	// Next is the process the owner is handing the data dir over to
	// (Lock.HandingOver); zero when no hand-over is under way. It stays
	// recorded after the owner let go, with PID zero, until the next
	// owner takes the lock and records itself.
	Next Successor `json:"next,omitzero"`
}

// Successor is a process taking ownership over from the current owner.
type Successor struct {
	PID int `json:"pid"`
	// Since is when the owner agreed to hand over.
	Since time.Time `json:"since"`
}

// HeldError is returned by Acquire when another process holds the lock.
type HeldError struct {
	Dir string
	// Owner is the holder as it recorded itself. It is zero when the holder
	// has locked the file but not yet written to it (a short window) or was
	// built by an older version.
	Owner Owner
}

func (e *HeldError) Error() string {
	if e.Owner.PID == 0 {
		return fmt.Sprintf("%s: %v", e.Dir, ErrHeld)
	}
	return fmt.Sprintf("%s: %v (pid %d, since %s)", e.Dir, ErrHeld, e.Owner.PID, e.Owner.Started.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is ownership of a data dir, held until Close or the process ends.
// Its methods are safe for concurrent use: a hand-over is announced from
// the goroutine answering the request while another may be closing.
type Lock struct {
	mu    sync.Mutex
	f     *os.File
	dir   string
	owner Owner // as recorded
}

// Acquire takes ownership of dir without waiting. The folder must exist.
//
// A process can hold one Lock per dir: a second Acquire on the same dir
// from the same process fails with ErrHeld on Windows and on unix (each
// Acquire opens its own file description, and flock locks conflict between
// descriptions).
//
// # Errors
//
// *HeldError (matching ErrHeld) when another process, or another Lock in
// this one, owns dir. Other errors come from opening or locking the file.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("taking ownership of %s: %w", dir, err)
	}
	held, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("taking ownership of %s: locking %s: %w", dir, path, err)
	}
	if held {
		owner, _ := readOwner(f)
		f.Close()
		return nil, &HeldError{Dir: dir, Owner: owner}
	}
	l := &Lock{f: f, dir: dir}
	if err := l.record(Owner{PID: os.Getpid(), Started: now()}); err != nil {
		l.Close()
		return nil, fmt.Errorf("taking ownership of %s: %w", dir, err)
	}
	return l, nil
}

// now is a recorded time: UTC, to the millisecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// HandingOver records that the process pid is taking ownership over from
// this one (Owner.Next), so that a process that finds no owner answering
// waits for pid rather than starting another owner, which could take the
// lock first. The record outlives Close, until the next Acquire. Call it
// before letting go; a second call replaces the first.
//
// # Errors
//
// os.ErrClosed after Close; errors writing the lock file.
func (l *Lock) HandingOver(pid int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("announcing a hand-over of %s: %w", l.dir, os.ErrClosed)
	}
	o := l.owner
	o.Next = Successor{PID: pid, Since: now()}
	if err := l.record(o); err != nil {
		return fmt.Errorf("announcing a hand-over of %s: %w", l.dir, err)
	}
	return nil
}

// Close gives up ownership: it clears the recorded owner, keeping only a
// successor HandingOver named, and releases the lock. The lock file stays
// (removing it would let two processes lock two different files of the
// same name). Close after Close returns an error.
func (l *Lock) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("releasing ownership of %s: %w", l.dir, os.ErrClosed)
	}
	var clearErr error
	if l.owner.Next.PID != 0 {
		clearErr = l.record(Owner{Next: l.owner.Next})
	} else {
		clearErr = l.f.Truncate(0)
	}
	f := l.f
	l.f = nil
	unlockErr := unlockFile(f)
	closeErr := f.Close()
	if err := errors.Join(clearErr, unlockErr, closeErr); err != nil {
		return fmt.Errorf("releasing ownership of %s: %w", l.dir, err)
	}
	return nil
}

// ReadOwner returns the owner recorded in dir's lock file without taking
// the lock, for diagnostics and to see a hand-over under way (Owner.Next,
// which may be set even when ok is false: the old owner has let go and
// the new one has not taken the lock yet). It reports ok=false when no
// process has recorded itself. A recorded owner may have died since: only
// Acquire can tell (the OS releases a dead owner's lock).
func ReadOwner(dir string) (owner Owner, ok bool, err error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return Owner{}, false, nil
	}
	if err != nil {
		return Owner{}, false, fmt.Errorf("reading the owner of %s: %w", dir, err)
	}
	defer f.Close()
	owner, err = readOwner(f)
	if err != nil {
		return Owner{}, false, fmt.Errorf("reading the owner of %s: %w", dir, err)
	}
	return owner, owner.PID != 0, nil
}

// record replaces the file's record with o; l.mu is held or l is new.
// It writes over the old record before cutting the file to length, so a
// reader sees the old record or the new one (perhaps followed by the old
// one's tail, which readOwner ignores), never an empty file in between.
func (l *Lock) record(o Owner) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := l.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("recording the owner: %w", err)
	}
	if err := l.f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("recording the owner: %w", err)
	}
	l.owner = o
	return nil
}

// readOwner parses the recorded owner, the file's first JSON value; an
// empty file is no owner.
func readOwner(f *os.File) (Owner, error) {
	var o Owner
	err := json.NewDecoder(io.NewSectionReader(f, 0, 4096)).Decode(&o)
	if errors.Is(err, io.EOF) {
		return Owner{}, nil
	}
	if err != nil {
		return Owner{}, fmt.Errorf("lock file content is not an owner record: %w", err)
	}
	return o, nil
}
