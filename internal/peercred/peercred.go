// Package peercred tells who is on the other end of a local (unix) socket
// connection: the peer's user and group ids, its process id, and the
// process's name, so that the socket server can refuse other users and the
// tray can show "claude (pid 4121)" beside the name a client claims.
//
// The ids come from the kernel (SO_PEERCRED on Linux, LOCAL_PEERCRED and
// LOCAL_PEERPID on macOS) and are the ones the peer had when it connected;
// a peer cannot forge them. The process name is looked up afterwards and is
// for display only (see Cred.Name). Other systems report ErrUnsupported.
//
//	cred, err := peercred.Get(conn)
//	if err != nil || cred.UID != os.Getuid() {
//		conn.Close() // not our user
//	}
package peercred

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// ErrUnsupported reports a platform or connection kind whose peer cannot be
// known: only unix sockets on Linux and macOS carry credentials.
var ErrUnsupported = errors.ErrUnsupported

// Cred is a connection's peer.
type Cred struct {
	UID int
	GID int // the primary group
	// PID is the peer's process id, 0 when the system does not tell. The
	// process that connected may have exited or handed the connection on
	// since.
	PID int
	// Name is the process's short name (on Linux /proc/PID/comm, at most 15
	// bytes; on macOS the kernel's p_comm), empty when unknown. It is read
	// after the fact, so a pid reused by another process would show that
	// process's name: show it to a person, never decide on it.
	Name string
}

// String describes the peer for a person: "claude (pid 4121)", or less when
// less is known.
func (c Cred) String() string {
	switch {
	case c.Name != "" && c.PID != 0:
		return c.Name + " (pid " + strconv.Itoa(c.PID) + ")"
	case c.PID != 0:
		return "pid " + strconv.Itoa(c.PID)
	default:
		return "uid " + strconv.Itoa(c.UID)
	}
}

// Get returns the peer of conn, which must be a unix socket connection
// (a *net.UnixConn or another net.Conn giving access to the socket through
// syscall.Conn). It is safe to call concurrently with reads and writes.
//
// # Errors
//
// ErrUnsupported (wrapped) on other connection kinds and platforms; errors
// from the system call otherwise.
func Get(conn net.Conn) (Cred, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return Cred{}, fmt.Errorf("peer credentials of a %T: %w", conn, ErrUnsupported)
	}
	if addr := conn.LocalAddr(); addr == nil || addr.Network() != "unix" {
		return Cred{}, fmt.Errorf("peer credentials of a non-unix connection: %w", ErrUnsupported)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return Cred{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred Cred
	var credErr error
	if err := raw.Control(func(fd uintptr) { cred, credErr = fromFD(int(fd)) }); err != nil {
		return Cred{}, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return Cred{}, fmt.Errorf("peer credentials: %w", credErr)
	}
	if cred.PID != 0 {
		cred.Name = processName(cred.PID)
	}
	return cred, nil
}
