package handover

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestSecondLaunchHandsOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	shown := make(chan struct{}, 1)
	s, err := Listen(context.Background(), path, func() { shown <- struct{}{} })
	if err != nil {
		t.Fatalf("first Listen: %v", err)
	}
	defer s.Close()
	if _, err := Listen(context.Background(), path, func() { t.Error("the second instance was asked to show") }); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Listen = %v; want ErrRunning", err)
	}
	<-shown
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600 (other users must not raise the window)", info.Mode(), err)
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	// A socket file nobody listens on, as a crashed instance leaves.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	s, err := Listen(context.Background(), path, func() {})
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer s.Close()
	if err := Ask(context.Background(), path); err != nil {
		t.Errorf("Ask after taking over the stale socket: %v", err)
	}
}

func TestBadRequest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	s, err := Listen(context.Background(), path, func() { t.Error("show on a bad request") })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("quit\n"))
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	if got := string(buf[:n]); got != "error: unknown request\n" {
		t.Errorf("reply = %q", got)
	}
}
