//go:build windows

package winpipe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"tapedeck.dev/tapedeck/internal/wintest"
)

// TestMain lets the test binary act as a client process of another test:
// with envDialPipe set it dials that pipe, writes its pid and exits.
func TestMain(m *testing.M) {
	if name := os.Getenv(envDialPipe); name != "" {
		os.Exit(dialChild(name))
	}
	os.Exit(m.Run())
}

// envDialPipe names the variable telling the re-executed test binary which
// pipe to dial.
const envDialPipe = "TAPEDECK_TEST_DIAL_PIPE"

// dialChild dials the pipe name, reports the server's pid as Dial saw it,
// and waits for the server to close.
func dialChild(name string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	server, _ := PeerPID(c)
	fmt.Fprintf(c, "%d\n", server)
	io.Copy(io.Discard, c)
	return 0
}

// testPipe is a pipe name no other test uses.
func testPipe(t *testing.T) string {
	return fmt.Sprintf(`\\.\pipe\tapedeck-test-%d-%s`, os.Getpid(), t.Name())
}

type accepted struct {
	conn net.Conn
	err  error
}

func acceptOne(ln net.Listener) <-chan accepted {
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	return ch
}

// listen serves a fresh pipe until the test ends.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := Listen(testPipe(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// connect dials ln's pipe and returns both ends, closed when the test ends.
func connect(t *testing.T, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	acc := acceptOne(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := Dial(ctx, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	t.Cleanup(func() { a.conn.Close() })
	return client, a.conn
}

// TestListenDialPeerPID: a client of this user reaches the server; each
// side learns the other's pid (here both are this process); bytes go both
// ways; a side that closes is seen as EOF, as on a socket.
func TestListenDialPeerPID(t *testing.T) {
	ln := listen(t)
	if got, want := ln.Addr().String(), testPipe(t); got != want {
		t.Errorf("Addr = %s, want %s", got, want)
	}
	client, server := connect(t, ln)

	for side, c := range map[string]net.Conn{"server": server, "client": client} {
		if pid, ok := PeerPID(c); !ok || pid != os.Getpid() {
			t.Errorf("PeerPID(%s side) = %d, %v; want %d, true", side, pid, ok, os.Getpid())
		}
	}
	if _, err := client.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	sr := bufio.NewReader(server)
	if line, err := sr.ReadString('\n'); err != nil || line != "ping\n" {
		t.Errorf("server read %q, %v; want ping", line, err)
	}
	if _, err := server.Write([]byte("pong\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(client).ReadString('\n'); err != nil || line != "pong\n" {
		t.Errorf("client read %q, %v; want pong", line, err)
	}
	client.Close()
	if n, err := sr.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("server read after the client closed = %d, %v; want io.EOF", n, err)
	}
}

// TestAcceptsMany: the listener serves one client after another, each on
// a fresh instance of the pipe, while earlier ones stay connected.
func TestAcceptsMany(t *testing.T) {
	ln := listen(t)
	for i := range 3 {
		c, server := connect(t, ln)
		fmt.Fprintf(c, "%d\n", i)
		if line, err := bufio.NewReader(server).ReadString('\n'); err != nil || line != strconv.Itoa(i)+"\n" {
			t.Errorf("client %d: server read %q, %v", i, line, err)
		}
	}
}

// TestSecondListenerRefused: while a pipe is served, another Listen on its
// name fails (FILE_FLAG_FIRST_PIPE_INSTANCE), so no second server can
// share the name and receive some of the clients; once the first listener
// closes, the name is free.
func TestSecondListenerRefused(t *testing.T) {
	name := testPipe(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := Listen(name); err == nil {
		second.Close()
		ln.Close()
		if v, ok := wintest.Wine(); ok {
			// Seen with Wine 8.0: CreateNamedPipeW gets open mode
			// 0x40080003 (FILE_FLAG_FIRST_PIPE_INSTANCE set) and still
			// creates an instance of the served pipe; Windows fails it
			// with ERROR_ACCESS_DENIED.
			t.Skipf("Wine %s ignores FILE_FLAG_FIRST_PIPE_INSTANCE in CreateNamedPipeW: the refusal only Windows can check", v)
		}
		t.Fatal("a second Listen on a served pipe name succeeded")
	}
	ln.Close()
	again, err := Listen(name)
	if err != nil {
		t.Fatalf("Listen after the first listener closed: %v", err)
	}
	again.Close()
}

// TestDialNobody: with nobody serving the name, Dial fails at once with an
// error wrapping os.ErrNotExist, which callers take as "no owner runs".
func TestDialNobody(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, testPipe(t))
	if err == nil {
		c.Close()
		t.Fatal("Dial reached a pipe nobody serves")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial = %v, want an error wrapping os.ErrNotExist", err)
	}
}

// TestCloseWakesAccept: Close ends an Accept waiting for a client with
// net.ErrClosed, and the name is free afterwards.
func TestCloseWakesAccept(t *testing.T) {
	name := testPipe(t)
	ln, err := Listen(name)
	if err != nil {
		t.Fatal(err)
	}
	acc := acceptOne(ln)
	// Close may land before or after Accept starts waiting: both must end it.
	ln.Close()
	a := <-acc
	if !errors.Is(a.err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, %v; want net.ErrClosed", a.conn, a.err)
	}
	c, err := Dial(context.Background(), name)
	if err == nil {
		c.Close()
		t.Error("Dial reached a closed listener")
	}
}

// TestClientProcess: a client in another process is accepted and named by
// its own pid, and it sees this process as the server.
func TestClientProcess(t *testing.T) {
	ln := listen(t)
	acc := acceptOne(ln)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), envDialPipe+"="+ln.Addr().String())
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Wait()
	a := <-acc
	if a.err != nil {
		child.Process.Kill()
		t.Fatal(a.err)
	}
	defer a.conn.Close()
	if pid, ok := PeerPID(a.conn); !ok || pid != child.Process.Pid {
		t.Errorf("PeerPID = %d, %v; want the child's pid %d", pid, ok, child.Process.Pid)
	}
	line, err := bufio.NewReader(a.conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's report: %v", err)
	}
	if line != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("the child saw server pid %q, want %d", line, os.Getpid())
	}
}

// TestPipeUserOnlyDACL: the pipe's security descriptor, as the system
// reports it, is a protected DACL with one entry: full access for this
// user.
func TestPipeUserOnlyDACL(t *testing.T) {
	c, _ := connect(t, listen(t))
	h := windows.Handle(c.(*conn).f.Fd())
	sd, err := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatalf("GetSecurityInfo on the pipe: %v", err)
	}
	user, err := currentUserSID()
	if err != nil {
		t.Fatal(err)
	}
	want, err := userOnlySDDL(user.String())
	if err != nil {
		t.Fatal(err)
	}
	// GA is stored as the pipe's specific rights (FA); compare the SID
	// and the protection, which are what keep others out.
	got := sd.String()
	t.Logf("pipe DACL: %s (asked for %s)", got, want)
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatalf("reading the DACL: %v", err)
	}
	if dacl.AceCount != 1 {
		t.Fatalf("the DACL has %d entries, want 1: %s", dacl.AceCount, got)
	}
	var ace *windows.ACCESS_ALLOWED_ACE
	if err := windows.GetAce(dacl, 0, &ace); err != nil {
		t.Fatal(err)
	}
	sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
	if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || !sid.Equals(user) {
		t.Errorf("the DACL's entry is type %d for %s, want allowed for %s", ace.Header.AceType, sid, user)
	}
	control, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	if control&windows.SE_DACL_PROTECTED == 0 {
		t.Errorf("the DACL is not protected from inheritance: %s", got)
	}
}
