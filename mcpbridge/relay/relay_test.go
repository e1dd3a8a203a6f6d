package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeOwner accepts one connection on its listener and answers each
// request with {"id": id, "result": {"owner": name}}, recording the
// methods it saw, until the connection ends or stop is called.
type fakeOwner struct {
	name    string
	ln      net.Listener
	methods chan string
	conn    chan net.Conn
}

func startFakeOwner(t *testing.T, socket, name string) *fakeOwner {
	t.Helper()
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	o := &fakeOwner{name: name, ln: ln, methods: make(chan string, 16), conn: make(chan net.Conn, 1)}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		o.conn <- conn
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			var msg struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
			}
			if json.Unmarshal(sc.Bytes(), &msg) != nil {
				continue
			}
			o.methods <- msg.Method
			if msg.ID != nil {
				io.WriteString(conn, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"owner":"`+name+`"}}`+"\n")
			}
		}
		conn.Close() // the session ended, as a real owner closes it
	}()
	return o
}

// stop closes the owner's listener and its connection, as an owner that
// hands over does.
func (o *fakeOwner) stop() {
	o.ln.Close()
	select {
	case c := <-o.conn:
		c.Close()
	default:
	}
}

// editor is the relay's other side.
type editor struct {
	in  *io.PipeWriter
	out *bufio.Scanner
}

func (e *editor) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(e.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// answer reads the next message and returns its id and the owner's name.
func (e *editor) answer(t *testing.T) (id, owner string) {
	t.Helper()
	if !e.out.Scan() {
		t.Fatalf("the relay closed: %v", e.out.Err())
	}
	var msg struct {
		ID     json.RawMessage
		Result struct{ Owner string }
	}
	if err := json.Unmarshal(e.out.Bytes(), &msg); err != nil {
		t.Fatalf("the relay sent %q: %v", e.out.Bytes(), err)
	}
	return string(msg.ID), msg.Result.Owner
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-t.Context().Done():
		t.Fatal("the owner saw nothing")
		return ""
	}
}

func TestRelayReplaysHandshake(t *testing.T) {
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "s")
	first := startFakeOwner(t, socket, "first")

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), inR, outW, Options{Socket: socket})
		outW.Close()
	}()
	ed := &editor{in: inW, out: bufio.NewScanner(outR)}

	ed.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	if id, owner := ed.answer(t); id != "1" || owner != "first" {
		t.Fatalf("initialize answered by %s with id %s", owner, id)
	}
	ed.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	ed.send(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if id, owner := ed.answer(t); id != "2" || owner != "first" {
		t.Fatalf("ping answered by %s with id %s", owner, id)
	}
	for _, want := range []string{"initialize", "notifications/initialized", "ping"} {
		if got := next(t, first.methods); got != want {
			t.Fatalf("first owner saw %s, want %s", got, want)
		}
	}

	first.stop()
	second := startFakeOwner(t, socket, "second")
	defer second.stop()
	for _, want := range []string{"initialize", "notifications/initialized"} {
		if got := next(t, second.methods); got != want {
			t.Fatalf("the new owner saw %s, want the replayed %s", got, want)
		}
	}
	ed.send(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`)
	// The new owner's answer to the replayed initialize must not reach the
	// editor: the next message is the ping's answer.
	if id, owner := ed.answer(t); id != "3" || owner != "second" {
		t.Errorf("after the hand-over the editor got id %s from %s, want id 3 from second", id, owner)
	}

	inW.Close()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestRelayStartsOwnerOnce(t *testing.T) {
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "s")
	starts := 0
	var owner *fakeOwner
	opts := Options{Socket: socket, StartOwner: func(context.Context) error {
		starts++
		owner = startFakeOwner(t, socket, "started")
		return nil
	}}
	in := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")
	var out strings.Builder
	if err := Run(t.Context(), in, &out, opts); err != nil {
		t.Fatal(err)
	}
	defer owner.stop()
	if starts != 1 {
		t.Errorf("StartOwner called %d times, want 1", starts)
	}
	if got := next(t, owner.methods); got != "ping" {
		t.Errorf("the started owner saw %s", got)
	}
}
