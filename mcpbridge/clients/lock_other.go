//go:build !unix

package clients

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// staleLock is the age after which a lock file left by a crashed process
// is taken over.
const staleLock = 2 * time.Minute

// tryLock creates path exclusively; busy reports that it exists. Without
// flock, a lock file older than staleLock is taken to be left by a crash.
func tryLock(path string) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > staleLock {
			os.Remove(path)
		}
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	f.Close()
	return func() { os.Remove(path) }, false, nil
}
