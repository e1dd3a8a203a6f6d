// Package handover keeps the desktop app to one instance per user: the
// first instance listens on a small unix socket, and a second launch asks it
// to show its window there instead of starting again.
//
// The protocol is one line each way: the newcomer sends "show\n", the
// running instance answers "ok\n" once it has raised its window.
package handover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrRunning is returned by Listen when another instance answered: it
// has been asked to show itself, and this one should exit.
var ErrRunning = errors.New("Tapedeck is already running; it was asked to show its window")

// askTimeout bounds talking to an instance that may be hung.
const askTimeout = 3 * time.Second

// Server answers "show" requests from later launches.
type Server struct {
	ln   net.Listener
	path string
	show func()
	wg   sync.WaitGroup
}

// Listen claims path for this instance, calling show (from the server's
// goroutine) each time a later launch asks. When another instance already
// answers at path, Listen asks it to show itself and returns ErrRunning.
func Listen(ctx context.Context, path string, show func()) (*Server, error) {
	if err := Ask(ctx, path); err == nil {
		return nil, ErrRunning
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("handover socket folder: %w", err)
	}
	// Nobody answered: a socket file left there is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove the stale handover socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on the handover socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("handover socket %s: %w", path, err)
	}
	s := &Server{ln: ln, path: path, show: show}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(askTimeout))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || strings.TrimSpace(line) != "show" {
				fmt.Fprintln(conn, "error: unknown request")
				return
			}
			s.show()
			fmt.Fprintln(conn, "ok")
		}()
	}
}

// Close stops answering and removes the socket.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// Ask asks the instance listening at path to show its window; nil means it did.
func Ask(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("no running instance at %s: %w", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := fmt.Fprintln(conn, "show"); err != nil {
		return fmt.Errorf("ask the running instance: %w", err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the running instance did not answer: %w", err)
	}
	if strings.TrimSpace(reply) != "ok" {
		return fmt.Errorf("the running instance refused: %s", strings.TrimSpace(reply))
	}
	return nil
}
