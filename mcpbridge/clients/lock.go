package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockWait is how long an edit waits for another Tapedeck process editing
// the same file before giving up.
const lockWait = 10 * time.Second

// lock takes the lock for this config file. The lock file lives in
// Tapedeck's data folder, never beside the editor's file.
func (f *fileEdit) lock() (unlock func(), err error) {
	dir := filepath.Join(f.dataDir, "clients")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	path := f.statePath(".lock")
	deadline := time.Now().Add(lockWait)
	for {
		unlock, busy, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !busy {
			return unlock, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("another Tapedeck is editing this file (lock %s held for %v); try again", path, lockWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
