//go:build unix

package wasi

import (
	"errors"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Path resolution for wasi:filesystem, one component at a time.
//
// A guest's path is never handed to the OS whole. resolveAt walks it from an
// open directory: each intermediate component is opened with O_NOFOLLOW and
// O_DIRECTORY relative to the directory before it, and a symbolic link met
// on the way is read (readlinkat) and its target walked in its place —
// relative to the link's directory, or from / when absolute. So the real
// path of what a path names is known before anything is done to it, and
// that real path is what the policy decides.
//
// The walk ends with a directory that stays open and a final name in it
// that is not a link to follow. The operation then acts on (dir, name)
// with O_NOFOLLOW or AT_SYMLINK_NOFOLLOW: if the name was swapped for a
// link after the decision, the OS refuses (ELOOP) rather than following it,
// and the parent cannot change under the open fd. What is decided is what
// is opened.

// maxSymlinks is how many links one resolution follows before it fails
// with ELOOP, as Linux does (MAXSYMLINKS).
const maxSymlinks = 40

// resolved is where a path led: the entry name in an open directory.
type resolved struct {
	dir     int    // open directory holding the entry; close releases it
	dirPath string // dir's real path
	name    string // the entry, or "." when the path names dir itself
	path    string // the entry's real path: what the policy decides
	exists  bool   // whether the entry exists (lstat)
	stat    unix.Stat_t
}

func (r *resolved) close() {
	if r.dir >= 0 {
		unix.Close(r.dir)
		r.dir = -1
	}
}

// isSelf reports whether the path named the directory itself ("", ".",
// "a/..", a link to a directory that ended in ".."…): operations that
// create or remove an entry cannot take such a path.
func (r *resolved) isSelf() bool { return r.name == "." }

// errAbsolutePath is how an absolute guest path is refused: WASI paths are
// relative to a descriptor (wasi-libc strips the preopen's "/" first).
var errAbsolutePath = codeError("not-permitted")

// resolveAt resolves p relative to the directory base, whose real path is
// basePath. follow says whether a link in the final component is followed
// (path-flags symlink-follow); links before it always are. The caller owns
// the returned directory. Errors are unix.Errno values or codeErrors.
func resolveAt(base int, basePath, p string, follow bool) (*resolved, error) {
	if p == "" {
		return nil, unix.ENOENT
	}
	if strings.HasPrefix(p, "/") {
		return nil, errAbsolutePath
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, codeError("invalid")
	}
	cur, err := openDirPath(base, ".")
	if err != nil {
		return nil, err
	}
	curPath := basePath
	comps := splitPath(p)
	fail := func(err error) (*resolved, error) {
		unix.Close(cur)
		return nil, &walkError{Path: path.Join(append([]string{curPath}, comps...)...), Err: err}
	}
	// A trailing slash ("dir/") names a directory: its final link is followed.
	if strings.HasSuffix(p, "/") {
		follow = true
	}
	links := 0
	for len(comps) > 0 {
		// comps[0] stays in comps until it has been walked, so that a
		// failure names the path as far as it was resolved.
		c := comps[0]
		last := len(comps) == 1
		switch c {
		case ".":
			comps = comps[1:]
			continue
		case "..":
			if curPath != "/" { // the root's parent is the root, as in POSIX
				up, err := openDirPath(cur, "..")
				if err != nil {
					return fail(err)
				}
				unix.Close(cur)
				cur, curPath = up, path.Dir(curPath)
			}
			comps = comps[1:]
			continue
		}
		if len(c) > 255 {
			return fail(unix.ENAMETOOLONG)
		}
		var st unix.Stat_t
		err := unix.Fstatat(cur, c, &st, unix.AT_SYMLINK_NOFOLLOW)
		if last && errors.Is(err, unix.ENOENT) {
			// The final entry may be missing: the caller creates it, or
			// answers no-entry once the policy has let it see that much.
			return &resolved{dir: cur, dirPath: curPath, name: c, path: joinReal(curPath, c)}, nil
		}
		if err != nil {
			return fail(err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK && (!last || follow) {
			links++
			if links > maxSymlinks {
				return fail(unix.ELOOP)
			}
			target, err := readlinkAt(cur, c)
			if err != nil {
				return fail(err)
			}
			if target == "" {
				return fail(unix.ENOENT)
			}
			if strings.IndexByte(target, 0) >= 0 {
				return fail(codeError("invalid"))
			}
			if strings.HasPrefix(target, "/") {
				root, err := openDirPath(unix.AT_FDCWD, "/")
				if err != nil {
					return fail(err)
				}
				unix.Close(cur)
				cur, curPath = root, "/"
			}
			if strings.HasSuffix(target, "/") && last {
				follow = true
			}
			comps = append(splitPath(target), comps[1:]...)
			continue
		}
		if last {
			return &resolved{dir: cur, dirPath: curPath, name: c, path: joinReal(curPath, c), exists: true, stat: st}, nil
		}
		// O_NOFOLLOW: if c became a link since the lstat, this fails
		// instead of following it.
		sub, err := openDirPath(cur, c)
		if err != nil {
			return fail(err)
		}
		unix.Close(cur)
		cur, curPath = sub, joinReal(curPath, c)
		comps = comps[1:]
	}
	// The path ended on the directory itself ("", ".", "a/..").
	r := &resolved{dir: cur, dirPath: curPath, name: ".", path: curPath, exists: true}
	if err := unix.Fstat(cur, &r.stat); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// walkError is a resolution that failed at Path: the real path as far as it
// was resolved, then the components not yet walked. That is what the policy
// decides before the guest may learn why the walk failed.
type walkError struct {
	Path string
	Err  error
}

func (e *walkError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *walkError) Unwrap() error { return e.Err }

// splitPath returns p's components, without empty ones ("a//b/" → a, b).
func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// joinReal joins a real directory path and an entry name.
func joinReal(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// readlinkAt reads a link's target, however long.
func readlinkAt(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}

// openDirPath opens name in dir as a directory to walk through, never
// following a link.
func openDirPath(dir int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dir, name, walkFlags|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}
