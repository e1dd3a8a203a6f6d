// Package ownerlock makes exactly one process the owner of a data dir.
//
// The owner holds an exclusive, non-blocking lock on <dir>/owner.lock (flock
// on unix, LockFileEx on Windows) and writes its pid and the time it took
// ownership into the file so that `tapedeck doctor` can name it. Every other
// process is a client of the owner. The OS drops the lock when the owner
// exits, however it exits, so a crashed owner never blocks the next one.
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
	"time"
)

// FileName is the lock file's name inside the data dir.
const FileName = "owner.lock"

// ErrHeld reports that another process owns the data dir. Errors from
// Acquire that match it are *HeldError, which names the owner.
var ErrHeld = errors.New("data dir is owned by another process")

// Owner describes the process that holds a lock.
type Owner struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"` // when it took ownership
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
// Its methods are not safe for concurrent use.
type Lock struct {
	f   *os.File
	dir string
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
	if err := l.record(Owner{PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
		l.Close()
		return nil, fmt.Errorf("taking ownership of %s: %w", dir, err)
	}
	return l, nil
}

// Close gives up ownership: it clears the recorded owner and releases the
// lock. The lock file stays (removing it would let two processes lock two
// different files of the same name). Close after Close returns an error.
func (l *Lock) Close() error {
	if l.f == nil {
		return fmt.Errorf("releasing ownership of %s: %w", l.dir, os.ErrClosed)
	}
	f := l.f
	l.f = nil
	truncErr := f.Truncate(0)
	unlockErr := unlockFile(f)
	closeErr := f.Close()
	if err := errors.Join(truncErr, unlockErr, closeErr); err != nil {
		return fmt.Errorf("releasing ownership of %s: %w", l.dir, err)
	}
	return nil
}

// ReadOwner returns the owner recorded in dir's lock file without taking
// the lock, for diagnostics. It reports ok=false when no process has
// recorded itself. A recorded owner may have died since: only Acquire can
// tell (the OS releases a dead owner's lock).
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

func (l *Lock) record(o Owner) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("recording the owner: %w", err)
	}
	if _, err := l.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("recording the owner: %w", err)
	}
	return nil
}

// readOwner parses the recorded owner; an empty file is no owner.
func readOwner(f *os.File) (Owner, error) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return Owner{}, err
	}
	var o Owner
	if len(b) == 0 {
		return o, nil
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return Owner{}, fmt.Errorf("lock file content is not an owner record: %w", err)
	}
	return o, nil
}
