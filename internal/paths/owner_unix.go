//go:build unix

package paths

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkPrivateDir refuses dir unless it is a real folder owned by uid that
// nobody else can enter. Once that holds, nobody else can swap it out
// either: /tmp is sticky, and our own folders are not writable by others.
func checkPrivateDir(dir string, uid int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking socket folder: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return fmt.Errorf("socket folder %s is not a folder (a symlink or file is there): %w; remove it and start again", dir, ErrUnsafeDir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("socket folder %s: cannot read its owner", dir)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("socket folder %s belongs to uid %d, not to you (uid %d): %w; someone may be trying to intercept Tapedeck: remove it as root, or use --data-dir with a short path", dir, st.Uid, uid, ErrUnsafeDir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("socket folder %s has mode %04o, open to other users: %w; run `chmod 700 %s`", dir, perm, ErrUnsafeDir, dir)
	}
	return nil
}
