package peercred

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCredString(t *testing.T) {
	tests := []struct {
		name string
		cred Cred
		want string
	}{
		{name: "name_and_pid", cred: Cred{UID: 1000, PID: 4121, Name: "claude"}, want: "claude (pid 4121)"},
		{name: "pid_only", cred: Cred{UID: 1000, PID: 4121}, want: "pid 4121"},
		{name: "uid_only", cred: Cred{UID: 1000}, want: "uid 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cred.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// unixPair returns both ends of a real unix socket connection.
func unixPair(t *testing.T, dir string) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestGetSameProcess(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("peer credentials exist on Linux and macOS only")
	}
	server, client := unixPair(t, t.TempDir())
	want := Cred{UID: os.Getuid(), GID: os.Getgid(), PID: os.Getpid(), Name: selfName(t)}
	for name, conn := range map[string]net.Conn{"server_side": server, "client_side": client} {
		t.Run(name, func(t *testing.T) {
			got, err := Get(conn)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Get = %+v, want %+v", got, want)
			}
		})
	}
}

func TestGetUnsupportedConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	tcp, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	for name, conn := range map[string]net.Conn{"pipe": a, "tcp": tcp} {
		t.Run(name, func(t *testing.T) {
			if _, err := Get(conn); !errors.Is(err, ErrUnsupported) {
				t.Errorf("Get = %v, want ErrUnsupported", err)
			}
		})
	}
}

// selfName is this process's name as the OS reports it to others.
func selfName(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile("/proc/self/comm")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	return processName(os.Getpid())
}
