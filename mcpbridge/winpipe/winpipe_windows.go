//go:build windows

package winpipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// bufferSize is each direction's pipe buffer, a hint to the system.
const bufferSize = 64 << 10

// Listen creates the named pipe name, usable only by the current user, and
// returns a listener for its clients.
//
// # Errors
//
// An error when name is not a local pipe name, when another process
// already serves a pipe of that name (access denied: see who holds it), or
// when the system refuses.
func Listen(name string) (net.Listener, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	user, err := currentUserSID()
	if err != nil {
		return nil, err
	}
	sddl, err := userOnlySDDL(user.String())
	if err != nil {
		return nil, err
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("building the pipe's security descriptor %s: %w", sddl, err)
	}
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("pipe name %q: %w", name, err)
	}
	closing, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("creating the named pipe %s: %w", name, err)
	}
	l := &listener{name: name, name16: name16, user: user, closing: closing, sa: &windows.SecurityAttributes{
		Length:             uint32(unsafe.Sizeof(windows.SecurityAttributes{})),
		SecurityDescriptor: sd,
	}}
	first, err := l.newInstance(true)
	if err != nil {
		windows.CloseHandle(closing)
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, fmt.Errorf("creating the named pipe %s: another process already serves it (%w); stop it or choose another data dir", name, err)
		}
		return nil, fmt.Errorf("creating the named pipe %s: %w", name, err)
	}
	l.next = first
	return l, nil
}

// listener accepts clients of one pipe name. Each Accept waits on the
// instance in next and makes the following one before it returns.
type listener struct {
	name   string
	name16 *uint16
	user   *windows.SID
	sa     *windows.SecurityAttributes

	acceptMu sync.Mutex // one Accept at a time: they share next

	// closing is set by Close and wakes an Accept waiting for a client.
	closing windows.Handle

	mu        sync.Mutex
	closed    bool
	accepting bool           // an Accept uses next; it frees it on close
	next      windows.Handle // the instance the next client connects to
}

func (l *listener) newInstance(first bool) (windows.Handle, error) {
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	mode := uint32(windows.PIPE_TYPE_BYTE | windows.PIPE_READMODE_BYTE | windows.PIPE_WAIT | windows.PIPE_REJECT_REMOTE_CLIENTS)
	return windows.CreateNamedPipe(l.name16, flags, mode, windows.PIPE_UNLIMITED_INSTANCES, bufferSize, bufferSize, 0, l.sa)
}

// Accept waits for the next client of the current user. Clients whose
// process runs as another user (which the DACL should already have
// stopped) are disconnected and not returned.
func (l *listener) Accept() (net.Conn, error) {
	l.acceptMu.Lock()
	defer l.acceptMu.Unlock()
	for {
		h, err := l.connectNext()
		if errors.Is(err, errClientLeft) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pid, err := clientCheck(h, l.user)
		if err != nil {
			windows.DisconnectNamedPipe(h)
			windows.CloseHandle(h)
			continue // as a unix socket server drops such a peer
		}
		return newConn(h, l.name, pid)
	}
}

// connectNext waits for a client on l.next, makes the following instance,
// and returns the connected handle.
func (l *listener) connectNext() (windows.Handle, error) {
	event, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return 0, fmt.Errorf("waiting for a pipe client: %w", err)
	}
	defer windows.CloseHandle(event)
	ov := &windows.Overlapped{HEvent: event}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, net.ErrClosed
	}
	h := l.next
	l.accepting = true
	l.mu.Unlock()

	err = windows.ConnectNamedPipe(h, ov)
	if errors.Is(err, windows.ERROR_IO_PENDING) {
		woke, werr := windows.WaitForMultipleObjects([]windows.Handle{event, l.closing}, false, windows.INFINITE)
		if werr == nil && woke == windows.WAIT_OBJECT_0+1 {
			windows.CancelIoEx(h, ov)
		}
		var n uint32
		// Waits for the cancel to land too: ov must outlive the I/O.
		err = windows.GetOverlappedResult(h, ov, &n, true)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepting = false
	if l.closed {
		windows.CloseHandle(h)
		windows.CloseHandle(l.closing)
		return 0, net.ErrClosed
	}
	if errors.Is(err, windows.ERROR_NO_DATA) {
		// The client closed before it was accepted: serve the next one on
		// the same instance.
		windows.DisconnectNamedPipe(h)
		return 0, errClientLeft
	}
	if err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
		return 0, fmt.Errorf("waiting for a client on %s: %w", l.name, err)
	}
	next, err := l.newInstance(false)
	if err != nil {
		windows.DisconnectNamedPipe(h)
		return 0, fmt.Errorf("creating the next instance of %s: %w", l.name, err)
	}
	l.next = next
	return h, nil
}

// errClientLeft: a client connected and left before Accept saw it.
var errClientLeft = errors.New("the pipe client left before it was accepted")

// Close stops accepting: a waiting Accept returns net.ErrClosed.
// Connections already accepted stay open.
func (l *listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.accepting {
		// The Accept wakes, cancels its wait and frees the handles.
		return windows.SetEvent(l.closing)
	}
	windows.CloseHandle(l.closing)
	return windows.CloseHandle(l.next)
}

func (l *listener) Addr() net.Addr { return pipeAddr(l.name) }

// pipeAddr is a pipe's name as a net.Addr.
type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// Dial connects to the pipe name, retrying while all its instances are
// busy until ctx is done, and checks that the process serving it runs as
// the current user.
//
// # Errors
//
// An error wrapping os.ErrNotExist when no server has the pipe; an error
// when its server runs as another user (something squats on the name) or
// the system refuses.
func Dial(ctx context.Context, name string) (net.Conn, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	user, err := currentUserSID()
	if err != nil {
		return nil, err
	}
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("pipe name %q: %w", name, err)
	}
	for {
		// SECURITY_IDENTIFICATION: the server may learn who we are but
		// not act as us.
		h, err := windows.CreateFile(name16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err == nil {
			pid, err := serverCheck(h, user)
			if err != nil {
				windows.CloseHandle(h)
				return nil, fmt.Errorf("connecting to %s: %w", name, err)
			}
			return newConn(h, name, pid)
		}
		switch {
		case errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
			return nil, fmt.Errorf("connecting to %s: %w", name, os.ErrNotExist)
		case !errors.Is(err, windows.ERROR_PIPE_BUSY):
			return nil, fmt.Errorf("connecting to %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to %s: every instance is busy: %w", name, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// currentUserSID is the SID of the user this process runs as.
func currentUserSID() (*windows.SID, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("finding this process's user: %w", err)
	}
	sid, err := tu.User.Sid.Copy()
	if err != nil {
		return nil, fmt.Errorf("finding this process's user: %w", err)
	}
	return sid, nil
}

// clientCheck returns the pid of the client on pipe h after checking that
// it runs as user.
func clientCheck(h windows.Handle, user *windows.SID) (int, error) {
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(h, &pid); err != nil {
		return 0, fmt.Errorf("finding the pipe client's process: %w", err)
	}
	if err := processIsUser(pid, user); err != nil {
		return 0, fmt.Errorf("pipe client pid %d: %w", pid, err)
	}
	return int(pid), nil
}

// serverCheck returns the pid of the server of pipe h after checking that
// it runs as user.
func serverCheck(h windows.Handle, user *windows.SID) (int, error) {
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(h, &pid); err != nil {
		return 0, fmt.Errorf("finding the pipe server's process: %w", err)
	}
	if err := processIsUser(pid, user); err != nil {
		return 0, fmt.Errorf("pipe server pid %d: %w", pid, err)
	}
	return int(pid), nil
}

// processIsUser returns an error unless process pid runs as user. The pid
// was read from the pipe a moment earlier; the DACL is the fence that
// holds even if that process has exited and its pid been reused.
func processIsUser(pid uint32, user *windows.SID) error {
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return fmt.Errorf("opening the process: %w", err)
	}
	defer windows.CloseHandle(p)
	var token windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &token); err != nil {
		return fmt.Errorf("reading the process's token: %w", err)
	}
	defer token.Close()
	tu, err := token.GetTokenUser()
	if err != nil {
		return fmt.Errorf("reading the process's user: %w", err)
	}
	if !tu.User.Sid.Equals(user) {
		return fmt.Errorf("runs as %s, not this user (%s)", tu.User.Sid, user)
	}
	return nil
}

// conn is one end of a connected pipe. The handle is overlapped, so
// os.NewFile ties it to the runtime's I/O completion port: reads and
// writes do not hold a thread, deadlines work, Close ends pending I/O.
type conn struct {
	f    *os.File
	name string
	pid  int
}

func newConn(h windows.Handle, name string, pid int) (net.Conn, error) {
	f := os.NewFile(uintptr(h), name)
	if f == nil {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("wrapping the pipe %s", name)
	}
	return &conn{f: f, name: name, pid: pid}, nil
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	if errors.Is(err, windows.ERROR_BROKEN_PIPE) || errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED) {
		return n, io.EOF // the other end closed: as a socket reports it
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error)        { return c.f.Write(p) }
func (c *conn) Close() error                       { return c.f.Close() }
func (c *conn) LocalAddr() net.Addr                { return pipeAddr(c.name) }
func (c *conn) RemoteAddr() net.Addr               { return pipeAddr(c.name) }
func (c *conn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *conn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *conn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// PeerPID returns the process id of the other end of conn, checked to run
// as the current user when it connected, and whether conn is a pipe
// connection from this package.
func PeerPID(c net.Conn) (int, bool) {
	pc, ok := c.(*conn)
	if !ok {
		return 0, false
	}
	return pc.pid, true
}
