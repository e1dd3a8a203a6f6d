//go:build unix

package wasi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// wasi:filesystem — the host's own file system, under the host's own names,
// with every path decided by the call's access.Checker.
//
// There is one preopen, "/", so a guest's "/home/ana/notes.txt" is the
// host's /home/ana/notes.txt and the names in a policy are the names a
// guest uses. (On Windows the preopens would be the drives, "C:/" and so
// on; this file serves unix only, and elsewhere filesystem_other.go denies
// every operation.)
//
// How a path is decided: fsresolve_unix.go walks it to a real path (links
// resolved, one component at a time, from an open directory), and that
// path is checked as policy.Storage{Path, Write}: reads (open for reading,
// stat, read-directory, readlink, read) as read; create, write, truncate,
// rename (both ends), unlink, mkdir, set-times, symlink and link creation
// (both ends: a hard link is a second name for the file, so its source
// must be writable) as write. An open descriptor remembers its real path
// and its read and write flags, and every operation on it is checked
// again: a descriptor opened for reading cannot write (bad-descriptor), and
// a policy changed mid-call applies at once.
//
// Two things are decided on a path other than the one operated on, both to
// avoid asking a person about paths a guest did not name:
//   - when a path does not resolve (a missing component, a dangling link),
//     the path as far as it resolved, with the rest appended, is decided
//     first, so the error code cannot tell a guest what exists where it may
//     not look;
//   - metadata-hash-at of a single name (an entry of the directory, or
//     "..") is decided on the directory, since the preview1 adapter asks it
//     for every entry it lists (to fill d_ino) and an opaque hash says no
//     more than the listing already did.
//
// Hard links: what links to a file is outside a path-based policy. The host
// refuses to create a link unless the component may write the source, and
// Linux (fs.protected_hardlinks, on by default) refuses a link to a file
// the user does not own and cannot write. A link that already exists
// inside a grant to a file outside it is the file the grant names: a
// policy decides names, not inodes.

// descriptor-type, descriptor-flags, path-flags and open-flags as the WIT
// declares them (an enum is its case index; flags are bits in order).
const (
	typeUnknown uint32 = iota
	typeBlockDevice
	typeCharacterDevice
	typeDirectory
	typeFIFO
	typeSymbolicLink
	typeRegularFile
	typeSocket
)

const (
	flagRead uint32 = 1 << iota
	flagWrite
	flagFileIntegritySync
	flagDataIntegritySync
	flagRequestedWriteSync
	flagMutateDirectory
)

const pathSymlinkFollow uint32 = 1

const (
	openCreate uint32 = 1 << iota
	openDirectory
	openExclusive
	openTruncate
)

// codeError is a wasi:filesystem error-code label as an error.
type codeError string

func (e codeError) Error() string { return "wasi:filesystem error " + string(e) }

// errnoCodes maps the errors the OS reports to error-code labels.
var errnoCodes = map[syscall.Errno]string{
	unix.EACCES: "access", unix.EAGAIN: "would-block", unix.EALREADY: "already",
	unix.EBADF: "bad-descriptor", unix.EBUSY: "busy", unix.EDEADLK: "deadlock",
	unix.EDQUOT: "quota", unix.EEXIST: "exist", unix.EFBIG: "file-too-large",
	unix.EILSEQ: "illegal-byte-sequence", unix.EINPROGRESS: "in-progress",
	unix.EINTR: "interrupted", unix.EINVAL: "invalid", unix.EIO: "io",
	unix.EISDIR: "is-directory", unix.ELOOP: "loop", unix.EMLINK: "too-many-links",
	unix.EMSGSIZE: "message-size", unix.ENAMETOOLONG: "name-too-long",
	unix.ENODEV: "no-device", unix.ENOENT: "no-entry", unix.ENOLCK: "no-lock",
	unix.ENOMEM: "insufficient-memory", unix.ENOSPC: "insufficient-space",
	unix.ENOTDIR: "not-directory", unix.ENOTEMPTY: "not-empty",
	unix.ENOTSUP: "unsupported", unix.ENOTTY: "no-tty", unix.ENXIO: "no-such-device",
	unix.EOVERFLOW: "overflow", unix.EPERM: "not-permitted", unix.EPIPE: "pipe",
	unix.EROFS: "read-only", unix.ESPIPE: "invalid-seek", unix.ETXTBSY: "text-file-busy",
	unix.EXDEV: "cross-device",
}

// fsCode returns the error-code label for err, and false when err is not
// a file-system answer but a reason to end the call (a cancelled call, a
// limit, a bug).
func fsCode(err error) (string, bool) {
	var code codeError
	var errno syscall.Errno
	switch {
	case access.IsDenied(err):
		return "access", true
	case errors.As(err, &code):
		return string(code), true
	case errors.As(err, &errno):
		if label, ok := errnoCodes[errno]; ok {
			return label, true
		}
		return "io", true
	case errors.Is(err, os.ErrClosed):
		return "bad-descriptor", true
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "io", true
	}
	return "", false
}

// descriptor is a wasi:filesystem descriptor: an open file or directory,
// the real path the policy decided when it was opened, and the flags it was
// opened with.
type descriptor struct {
	tracked
	file        *os.File
	path        string
	kind        uint32
	read, write bool

	closeOnce sync.Once
}

func (d *descriptor) Close() error {
	d.closeOnce.Do(func() { d.file.Close() })
	return d.tracked.Close()
}

// control runs fn with d's file descriptor, which stays open meanwhile.
func (d *descriptor) control(fn func(fd int) error) error {
	rc, err := d.file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func (d *descriptor) isDir() bool { return d.kind == typeDirectory }

// entryStream is a directory-entry-stream: its own open directory, read in batches.
type entryStream struct {
	tracked
	dir     *os.File
	pending []os.DirEntry
	done    bool
}

func (s *entryStream) Close() error {
	s.dir.Close()
	return s.tracked.Close()
}

// newTime is a new-timestamp value.
type newTime struct {
	change  int // timeKeep, timeNow or timeSet
	seconds uint64
	nanos   uint32
}

const (
	timeKeep = iota
	timeNow
	timeSet
)

// fileSource reads a file from an offset with pread: the descriptor's own
// position, which WASI 0.2 does not have, is never used.
type fileSource struct {
	f   *os.File
	off int64
}

func (s *fileSource) read(n int) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	buf := make([]byte, n)
	k, err := s.f.ReadAt(buf, s.off)
	s.off += int64(k)
	if k > 0 {
		return buf[:k], nil
	}
	if err == nil {
		err = io.EOF
	}
	return nil, err
}

func (s *fileSource) ready() <-chan struct{} { return closedChan }

// fileSink writes a file from an offset with pwrite, or at its end.
type fileSink struct {
	f      *os.File
	off    int64
	append bool
}

func (s *fileSink) capacity() (int, error) { return captureChunk, nil }

func (s *fileSink) write(_ context.Context, p []byte) error {
	if s.append {
		info, err := s.f.Stat()
		if err != nil {
			return err
		}
		s.off = info.Size()
	}
	k, err := s.f.WriteAt(p, s.off)
	s.off += int64(k)
	return err
}

func (s *fileSink) ready() <-chan struct{} { return closedChan }

// fsHost is what the filesystem functions share.
type fsHost struct {
	h             *Host
	descriptorRes *types.Resource
	entryRes      *types.Resource
	errorCode     *types.Type
	hashKey       [32]byte // keys metadata hashes, so they reveal no inode numbers
}

func (h *Host) filesystemFuncs() map[string]map[string]hostFn {
	const iface = "wasi:filesystem/types"
	fs := &fsHost{
		h:             h,
		descriptorRes: h.resource(iface, "descriptor"),
		entryRes:      h.resource(iface, "directory-entry-stream"),
		errorCode:     h.valueType(iface, "error-code"),
	}
	if _, err := rand.Read(fs.hashKey[:]); err != nil {
		panic(fmt.Sprintf("wasi: no randomness for the metadata hash key: %v", err))
	}
	m := map[string]hostFn{}
	method := func(name string, fn func(ctx context.Context, d *descriptor, args []any) (any, error)) {
		full := "[method]descriptor." + name
		m[full] = func(ctx context.Context, args []any) ([]any, error) {
			d, err := hostObject[*descriptor](args[0], full)
			if err != nil {
				return nil, err
			}
			v, err := fn(ctx, d, args[1:])
			if err != nil {
				return fs.failure(err)
			}
			return one(okValue(v))
		}
	}
	method("read-via-stream", fs.readViaStream)
	method("write-via-stream", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		off, err := u64Arg(args[0], "write-via-stream")
		if err != nil {
			return nil, err
		}
		return fs.writeStream(ctx, d, off, false)
	})
	method("append-via-stream", func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		return fs.writeStream(ctx, d, 0, true)
	})
	method("advise", func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		return nil, nil // advice may be ignored
	})
	sync := func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		if err := allow(ctx, d.path, false); err != nil {
			return nil, err
		}
		return nil, d.file.Sync()
	}
	method("sync-data", sync)
	method("sync", sync)
	method("get-flags", func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		var f uint32
		if d.read {
			f |= flagRead
		}
		if d.write {
			f |= flagWrite
		}
		if d.isDir() {
			f |= flagMutateDirectory // what may change is the policy's to say
		}
		return f, nil
	})
	method("get-type", func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		return types.VariantValue{Case: d.kind}, nil
	})
	method("set-size", fs.setSize)
	method("set-times", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		atime, mtime, err := timesArgs(args[0], args[1])
		if err != nil {
			return nil, err
		}
		if err := allow(ctx, d.path, true); err != nil {
			return nil, err
		}
		return nil, d.control(func(fd int) error { return setTimes(fd, "", atime, mtime) })
	})
	method("read", fs.read)
	method("write", fs.write)
	method("read-directory", fs.readDirectory)
	method("create-directory-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		return nil, fs.atPath(ctx, d, args[0], false, true, func(r *resolved) error {
			if r.exists {
				return unix.EEXIST
			}
			return unix.Mkdirat(r.dir, r.name, 0o777)
		})
	})
	method("stat", func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		if err := allow(ctx, d.path, false); err != nil {
			return nil, err
		}
		var st unix.Stat_t
		if err := d.control(func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
			return nil, err
		}
		return statValue(&st), nil
	})
	method("stat-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		var out any
		err := fs.atPath(ctx, d, args[1], followArg(args[0]), false, func(r *resolved) error {
			if !r.exists {
				return unix.ENOENT
			}
			out = statValue(&r.stat)
			return nil
		})
		return out, err
	})
	method("set-times-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		atime, mtime, err := timesArgs(args[2], args[3])
		if err != nil {
			return nil, err
		}
		return nil, fs.atPath(ctx, d, args[1], followArg(args[0]), true, func(r *resolved) error {
			if !r.exists {
				return unix.ENOENT
			}
			return setTimes(r.dir, r.name, atime, mtime)
		})
	})
	method("link-at", fs.linkAt)
	method("open-at", fs.openAt)
	method("readlink-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		var target string
		err := fs.atPath(ctx, d, args[0], false, false, func(r *resolved) error {
			switch {
			case !r.exists:
				return unix.ENOENT
			case r.stat.Mode&unix.S_IFMT != unix.S_IFLNK:
				return unix.EINVAL
			}
			var err error
			target, err = readlinkAt(r.dir, r.name)
			return err
		})
		return target, err
	})
	method("remove-directory-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		return nil, fs.atPath(ctx, d, args[0], false, true, func(r *resolved) error {
			if r.isSelf() {
				return unix.EINVAL
			}
			return unix.Unlinkat(r.dir, r.name, unix.AT_REMOVEDIR)
		})
	})
	method("rename-at", fs.renameAt)
	method("symlink-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		target, err := stringArg(args[0], "symlink-at")
		if err != nil {
			return nil, err
		}
		// The target is only text until something follows the link, and
		// whatever follows it decides the target then.
		return nil, fs.atPath(ctx, d, args[1], false, true, func(r *resolved) error {
			if r.exists {
				return unix.EEXIST
			}
			return unix.Symlinkat(target, r.dir, r.name)
		})
	})
	method("unlink-file-at", func(ctx context.Context, d *descriptor, args []any) (any, error) {
		return nil, fs.atPath(ctx, d, args[0], false, true, func(r *resolved) error {
			if r.isSelf() {
				return unix.EISDIR
			}
			return unix.Unlinkat(r.dir, r.name, 0)
		})
	})
	m["[method]descriptor.is-same-object"] = func(ctx context.Context, args []any) ([]any, error) {
		a, err := hostObject[*descriptor](args[0], "is-same-object")
		if err != nil {
			return nil, err
		}
		b, err := hostObject[*descriptor](args[1], "is-same-object")
		if err != nil {
			return nil, err
		}
		var sa, sb unix.Stat_t
		if a.control(func(fd int) error { return unix.Fstat(fd, &sa) }) != nil ||
			b.control(func(fd int) error { return unix.Fstat(fd, &sb) }) != nil {
			return one(false)
		}
		return one(sa.Dev == sb.Dev && sa.Ino == sb.Ino)
	}
	method("metadata-hash", func(ctx context.Context, d *descriptor, _ []any) (any, error) {
		if err := allow(ctx, d.path, false); err != nil {
			return nil, err
		}
		var st unix.Stat_t
		if err := d.control(func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
			return nil, err
		}
		return fs.hash(&st), nil
	})
	method("metadata-hash-at", fs.metadataHashAt)
	m["[method]directory-entry-stream.read-directory-entry"] = func(ctx context.Context, args []any) ([]any, error) {
		s, err := hostObject[*entryStream](args[0], "read-directory-entry")
		if err != nil {
			return nil, err
		}
		v, err := s.next()
		if err != nil {
			return fs.failure(err)
		}
		return one(okValue(v))
	}
	m["filesystem-error-code"] = func(ctx context.Context, args []any) ([]any, error) {
		e, err := hostObject[*ioError](args[0], "filesystem-error-code")
		if err != nil {
			return nil, err
		}
		var errno syscall.Errno
		if errors.As(e.err, &errno) || errors.Is(e.err, os.ErrClosed) {
			if label, ok := fsCode(e.err); ok {
				return one(someValue(types.VariantValue{Case: caseIndex(fs.errorCode, label)}))
			}
		}
		return one(noneValue)
	}
	return map[string]map[string]hostFn{
		iface: m,
		"wasi:filesystem/preopens": {
			"get-directories": fs.getDirectories,
		},
	}
}

// failure returns err as the guest's error-code, or ends the call when err
// is not a file-system answer.
func (fs *fsHost) failure(err error) ([]any, error) {
	label, ok := fsCode(err)
	if !ok {
		return nil, err
	}
	return one(errValue(types.VariantValue{Case: caseIndex(fs.errorCode, label)}))
}

// allow asks the call's access.Checker whether the guest may read (or
// write) the real path p.
func allow(ctx context.Context, p string, write bool) error {
	return access.FromContext(ctx).Check(ctx, policy.Storage{Path: p, Write: write})
}

// getDirectories returns the one preopen, "/".
func (fs *fsHost) getDirectories(ctx context.Context, _ []any) ([]any, error) {
	st, err := fs.h.state(ctx)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		// A host whose root cannot be opened serves no files.
		return one([]any{})
	}
	d := &descriptor{file: os.NewFile(uintptr(fd), "/"), path: "/", kind: typeDirectory, read: true}
	if err := st.track(&d.tracked, "descriptor", false); err != nil {
		d.file.Close()
		return nil, err
	}
	return one([]any{[]any{handleValue(fs.descriptorRes, d), "/"}})
}

// resolve walks p from the directory d to a real path and decides it. On a
// walk error, the lexical path is decided first, so that the answer says
// nothing about paths the guest may not see.
func (fs *fsHost) resolve(ctx context.Context, d *descriptor, p string, follow, write bool) (*resolved, error) {
	if !d.isDir() {
		return nil, unix.ENOTDIR
	}
	var r *resolved
	err := d.control(func(fd int) error {
		var err error
		r, err = resolveAt(fd, d.path, p, follow)
		return err
	})
	if err != nil {
		var walk *walkError
		if errors.As(err, &walk) {
			if derr := allow(ctx, walk.Path, write); derr != nil {
				return nil, derr
			}
		}
		return nil, err
	}
	if err := allow(ctx, r.path, write); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// atPath resolves and decides the path argument arg, runs op on it and
// releases it.
func (fs *fsHost) atPath(ctx context.Context, d *descriptor, arg any, follow, write bool, op func(*resolved) error) error {
	p, err := stringArg(arg, "path")
	if err != nil {
		return err
	}
	r, err := fs.resolve(ctx, d, p, follow, write)
	if err != nil {
		return err
	}
	defer r.close()
	return op(r)
}

func followArg(arg any) bool {
	f, _ := arg.(uint32)
	return f&pathSymlinkFollow != 0
}

func (fs *fsHost) openAt(ctx context.Context, d *descriptor, args []any) (any, error) {
	pathFlags, _ := args[0].(uint32)
	p, err := stringArg(args[1], "open-at")
	if err != nil {
		return nil, err
	}
	openFlags, _ := args[2].(uint32)
	descFlags, _ := args[3].(uint32)
	st, err := fs.h.state(ctx)
	if err != nil {
		return nil, err
	}
	read, write := descFlags&flagRead != 0, descFlags&flagWrite != 0
	if openFlags&openDirectory != 0 && write {
		return nil, unix.EISDIR
	}
	mutates := write || openFlags&(openCreate|openTruncate) != 0
	r, err := fs.resolve(ctx, d, p, pathFlags&pathSymlinkFollow != 0, mutates)
	if err != nil {
		return nil, err
	}
	defer r.close()
	create := openFlags&openCreate != 0
	switch {
	case !r.exists && !create:
		return nil, unix.ENOENT
	case r.exists && create && openFlags&openExclusive != 0:
		return nil, unix.EEXIST
	}
	// O_NOFOLLOW: r.name is not a link (resolveAt followed it if asked),
	// and if it has become one since, the open fails rather than follow it.
	// O_NONBLOCK: opening a FIFO must not hang the call.
	flags := unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK
	switch {
	case read && write:
		flags |= unix.O_RDWR
	case write:
		flags |= unix.O_WRONLY
	default:
		flags |= unix.O_RDONLY
	}
	if create && !r.isSelf() {
		flags |= unix.O_CREAT
		if openFlags&openExclusive != 0 {
			flags |= unix.O_EXCL
		}
	}
	if openFlags&openDirectory != 0 {
		flags |= unix.O_DIRECTORY
	}
	if openFlags&openTruncate != 0 {
		if !write {
			return nil, unix.EINVAL // truncating needs a descriptor that may write
		}
		flags |= unix.O_TRUNC
	}
	fd, err := unix.Openat(r.dir, r.name, flags, 0o666)
	if err != nil {
		return nil, err
	}
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	nd := &descriptor{file: os.NewFile(uintptr(fd), r.path), path: r.path, kind: kindOf(uint32(fst.Mode)), read: read, write: write}
	if err := st.track(&nd.tracked, "descriptor", false); err != nil {
		nd.file.Close()
		return nil, err
	}
	return handleValue(fs.descriptorRes, nd), nil
}

func (fs *fsHost) readViaStream(ctx context.Context, d *descriptor, args []any) (any, error) {
	off, err := u64Arg(args[0], "read-via-stream")
	if err != nil {
		return nil, err
	}
	if err := fs.readable(ctx, d); err != nil {
		return nil, err
	}
	if off > math.MaxInt64 {
		return nil, unix.EINVAL
	}
	st, err := fs.h.state(ctx)
	if err != nil {
		return nil, err
	}
	return fs.h.newInputStream(st, &fileSource{f: d.file, off: int64(off)})
}

func (fs *fsHost) writeStream(ctx context.Context, d *descriptor, off uint64, appending bool) (any, error) {
	if err := fs.writable(ctx, d); err != nil {
		return nil, err
	}
	if off > math.MaxInt64 {
		return nil, unix.EINVAL
	}
	st, err := fs.h.state(ctx)
	if err != nil {
		return nil, err
	}
	return fs.h.newOutputStream(st, &fileSink{f: d.file, off: int64(off), append: appending})
}

// readable checks that d may be read now: opened for reading, not a
// directory, and its path still allowed.
func (fs *fsHost) readable(ctx context.Context, d *descriptor) error {
	switch {
	case !d.read:
		return unix.EBADF
	case d.isDir():
		return unix.EISDIR
	}
	return allow(ctx, d.path, false)
}

func (fs *fsHost) writable(ctx context.Context, d *descriptor) error {
	switch {
	case !d.write:
		return unix.EBADF
	case d.isDir():
		return unix.EISDIR
	}
	return allow(ctx, d.path, true)
}

func (fs *fsHost) read(ctx context.Context, d *descriptor, args []any) (any, error) {
	n, err := u64Arg(args[0], "read")
	if err != nil {
		return nil, err
	}
	off, err := u64Arg(args[1], "read")
	if err != nil {
		return nil, err
	}
	if err := fs.readable(ctx, d); err != nil {
		return nil, err
	}
	if off > math.MaxInt64 {
		return nil, unix.EINVAL
	}
	st, err := fs.h.state(ctx)
	if err != nil {
		return nil, err
	}
	// The specification lets a read return fewer bytes than asked.
	n = min(n, uint64(st.limits.MaxReadBytes))
	buf := make([]byte, n)
	k, err := d.file.ReadAt(buf, int64(off))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	eof := errors.Is(err, io.EOF) || (n > 0 && k == 0)
	return []any{bytesValue(buf[:k]), eof}, nil
}

func (fs *fsHost) write(ctx context.Context, d *descriptor, args []any) (any, error) {
	p, err := bytesArg(args[0], "write")
	if err != nil {
		return nil, err
	}
	off, err := u64Arg(args[1], "write")
	if err != nil {
		return nil, err
	}
	if err := fs.writable(ctx, d); err != nil {
		return nil, err
	}
	if off > math.MaxInt64 {
		return nil, unix.EFBIG
	}
	k, err := d.file.WriteAt(p, int64(off))
	if err != nil {
		return nil, err
	}
	return uint64(k), nil
}

func (fs *fsHost) setSize(ctx context.Context, d *descriptor, args []any) (any, error) {
	size, err := u64Arg(args[0], "set-size")
	if err != nil {
		return nil, err
	}
	if err := fs.writable(ctx, d); err != nil {
		return nil, err
	}
	if size > math.MaxInt64 {
		return nil, unix.EFBIG
	}
	return nil, d.file.Truncate(int64(size))
}

func (fs *fsHost) readDirectory(ctx context.Context, d *descriptor, _ []any) (any, error) {
	switch {
	case !d.isDir():
		return nil, unix.ENOTDIR
	case !d.read:
		return nil, unix.EBADF
	}
	if err := allow(ctx, d.path, false); err != nil {
		return nil, err
	}
	st, err := fs.h.state(ctx)
	if err != nil {
		return nil, err
	}
	// A directory of its own, so the listing has its own position.
	var fd int
	if err := d.control(func(dfd int) error {
		var err error
		fd, err = unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	}); err != nil {
		return nil, err
	}
	s := &entryStream{dir: os.NewFile(uintptr(fd), d.path)}
	if err := st.track(&s.tracked, "directory-entry-stream", false); err != nil {
		s.dir.Close()
		return nil, err
	}
	return handleValue(fs.entryRes, s), nil
}

// next returns the next entry as option<directory-entry>.
func (s *entryStream) next() (any, error) {
	for len(s.pending) == 0 {
		if s.done {
			return noneValue, nil
		}
		entries, err := s.dir.ReadDir(64)
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			s.done = true
			continue
		}
		if err != nil {
			return nil, err
		}
		s.pending = entries
	}
	e := s.pending[0]
	s.pending = s.pending[1:]
	return someValue([]any{types.VariantValue{Case: kindOfDirEntry(e.Type())}, e.Name()}), nil
}

// pathPairArgs reads the old path, the new descriptor and the new path that
// link-at and rename-at (name) take.
func pathPairArgs(args []any, name string) (oldPath string, nd *descriptor, newPath string, err error) {
	if oldPath, err = stringArg(args[0], name); err != nil {
		return "", nil, "", err
	}
	if nd, err = hostObject[*descriptor](args[1], name); err != nil {
		return "", nil, "", err
	}
	if newPath, err = stringArg(args[2], name); err != nil {
		return "", nil, "", err
	}
	return oldPath, nd, newPath, nil
}

func (fs *fsHost) linkAt(ctx context.Context, d *descriptor, args []any) (any, error) {
	follow := followArg(args[0])
	oldPath, nd, newPath, err := pathPairArgs(args[1:], "link-at")
	if err != nil {
		return nil, err
	}
	// A hard link is a second name for the file: whoever may write the
	// new name could change the file through it, so the source must be
	// writable too.
	from, err := fs.resolve(ctx, d, oldPath, follow, true)
	if err != nil {
		return nil, err
	}
	defer from.close()
	switch {
	case !from.exists:
		return nil, unix.ENOENT
	case from.isSelf() || from.stat.Mode&unix.S_IFMT == unix.S_IFDIR:
		return nil, unix.EPERM
	}
	to, err := fs.resolve(ctx, nd, newPath, false, true)
	if err != nil {
		return nil, err
	}
	defer to.close()
	if to.exists {
		return nil, unix.EEXIST
	}
	return nil, unix.Linkat(from.dir, from.name, to.dir, to.name, 0)
}

func (fs *fsHost) renameAt(ctx context.Context, d *descriptor, args []any) (any, error) {
	oldPath, nd, newPath, err := pathPairArgs(args, "rename-at")
	if err != nil {
		return nil, err
	}
	from, err := fs.resolve(ctx, d, oldPath, false, true)
	if err != nil {
		return nil, err
	}
	defer from.close()
	if !from.exists {
		return nil, unix.ENOENT
	}
	to, err := fs.resolve(ctx, nd, newPath, false, true)
	if err != nil {
		return nil, err
	}
	defer to.close()
	if from.isSelf() || to.isSelf() {
		return nil, unix.EBUSY
	}
	return nil, unix.Renameat(from.dir, from.name, to.dir, to.name)
}

func (fs *fsHost) metadataHashAt(ctx context.Context, d *descriptor, args []any) (any, error) {
	follow := followArg(args[0])
	p, err := stringArg(args[1], "metadata-hash-at")
	if err != nil {
		return nil, err
	}
	if !d.isDir() {
		return nil, unix.ENOTDIR
	}
	var r *resolved
	if p != "" && !strings.Contains(p, "/") && (p == ".." || !follow) {
		// An entry of d, or its parent: decided as listing d (see the
		// comment at the top of this file).
		if err := allow(ctx, d.path, false); err != nil {
			return nil, err
		}
		if err := d.control(func(fd int) error {
			var err error
			r, err = resolveAt(fd, d.path, p, false)
			return err
		}); err != nil {
			return nil, err
		}
	} else if r, err = fs.resolve(ctx, d, p, follow, false); err != nil {
		return nil, err
	}
	defer r.close()
	if !r.exists {
		return nil, unix.ENOENT
	}
	return fs.hash(&r.stat), nil
}

// hash is metadata-hash-value: the same for the same file, keyed per host
// so the guest learns no device or inode numbers.
func (fs *fsHost) hash(st *unix.Stat_t) any {
	var b [48]byte
	copy(b[:32], fs.hashKey[:])
	binary.LittleEndian.PutUint64(b[32:], uint64(st.Dev))
	binary.LittleEndian.PutUint64(b[40:], uint64(st.Ino))
	sum := sha256.Sum256(b[:])
	return []any{binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])}
}

func kindOf(mode uint32) uint32 {
	switch mode & unix.S_IFMT {
	case unix.S_IFBLK:
		return typeBlockDevice
	case unix.S_IFCHR:
		return typeCharacterDevice
	case unix.S_IFDIR:
		return typeDirectory
	case unix.S_IFIFO:
		return typeFIFO
	case unix.S_IFLNK:
		return typeSymbolicLink
	case unix.S_IFREG:
		return typeRegularFile
	case unix.S_IFSOCK:
		return typeSocket
	}
	return typeUnknown
}

func kindOfDirEntry(m os.FileMode) uint32 {
	switch {
	case m&os.ModeDir != 0:
		return typeDirectory
	case m&os.ModeSymlink != 0:
		return typeSymbolicLink
	case m&os.ModeNamedPipe != 0:
		return typeFIFO
	case m&os.ModeSocket != 0:
		return typeSocket
	case m&os.ModeCharDevice != 0:
		return typeCharacterDevice
	case m&os.ModeDevice != 0:
		return typeBlockDevice
	case m&os.ModeType == 0:
		return typeRegularFile
	}
	return typeUnknown
}

// statValue is a descriptor-stat record.
func statValue(st *unix.Stat_t) any {
	ts := func(t unix.Timespec) any {
		sec, nsec := t.Unix()
		if sec < 0 {
			return noneValue // before 1970: datetime cannot say it
		}
		return someValue([]any{uint64(sec), uint32(nsec)})
	}
	return []any{
		types.VariantValue{Case: kindOf(uint32(st.Mode))},
		uint64(st.Nlink),
		uint64(st.Size),
		ts(st.Atim), ts(st.Mtim), ts(st.Ctim),
	}
}

// timesArgs reads two new-timestamp arguments.
func timesArgs(a, m any) (newTime, newTime, error) {
	conv := func(arg any) (newTime, error) {
		v, err := variantArg(arg, "new-timestamp")
		if err != nil {
			return newTime{}, err
		}
		switch v.Case {
		case 0:
			return newTime{change: timeKeep}, nil
		case 1:
			return newTime{change: timeNow}, nil
		}
		rec, ok := v.Value.([]any)
		if !ok || len(rec) != 2 {
			return newTime{}, fmt.Errorf("wasi: new-timestamp: expected a datetime, got %T (a bug in the runtime)", v.Value)
		}
		sec, _ := rec[0].(uint64)
		nsec, _ := rec[1].(uint32)
		if nsec >= 1e9 {
			return newTime{}, unix.EINVAL
		}
		return newTime{change: timeSet, seconds: sec, nanos: nsec}, nil
	}
	at, err := conv(a)
	if err != nil {
		return at, at, err
	}
	mt, err := conv(m)
	return at, mt, err
}
