package localsock

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/ownerlock"
	"tapedeck.dev/tapedeck/internal/paths"
)

// owned makes a fresh data dir, takes its ownership and returns the path
// its owner listens on: a unix socket here, a named pipe on Windows.
func owned(t *testing.T) (string, *ownerlock.Lock) {
	t.Helper()
	dirs, err := paths.Resolve(paths.Options{DataDir: shortTempDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := paths.Ensure(dirs); err != nil {
		t.Fatal(err)
	}
	lock, err := ownerlock.Acquire(dirs.Data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	return paths.SocketPath(dirs), lock
}

// shortTempDir is a fresh folder whose path leaves room for a socket name
// within the unix address limit, which t.TempDir's long names may not.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tdls")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestListenDialPeer: a client of this user reaches the owner, which sees
// this process behind the connection; the bytes go both ways.
func TestListenDialPeer(t *testing.T) {
	path, lock := owned(t)
	ln, err := Listen(path, lock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		conn net.Conn
		err  error
	}
	acc := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		acc <- accepted{c, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	server := a.conn
	defer server.Close()

	cred, err := Peer(server)
	if err != nil {
		t.Fatalf("Peer of this process's own connection: %v", err)
	}
	if cred.PID != os.Getpid() || cred.UID != os.Getuid() {
		t.Errorf("Peer = %+v, want pid %d uid %d", cred, os.Getpid(), os.Getuid())
	}
	if _, err := client.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(server).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Errorf("server read %q, %v; want ping", line, err)
	}
}

// TestListenNeedsLock: only the owner of the data dir may listen.
func TestListenNeedsLock(t *testing.T) {
	path, _ := owned(t)
	if ln, err := Listen(path, nil); err == nil {
		ln.Close()
		t.Fatal("Listen without the owner lock succeeded")
	}
}

// TestDialNobody: with no owner listening, Dial says so in a way callers
// can tell apart (they start an owner, or report that none runs).
func TestDialNobody(t *testing.T) {
	path, _ := owned(t)
	conn, err := Dial(context.Background(), path)
	if err == nil {
		conn.Close()
		t.Fatal("Dial reached an owner that does not exist")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial = %v, want an error wrapping os.ErrNotExist", err)
	}
}

// TestPeerUnknown: a connection that is not the local socket's (here an
// in-memory pipe) has no peer anyone can vouch for, so it is refused.
func TestPeerUnknown(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if cred, err := Peer(a); err == nil {
		t.Errorf("Peer = %+v, want an error", cred)
	}
}
