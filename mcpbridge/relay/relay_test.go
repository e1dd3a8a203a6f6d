package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/localsock"
	"tapedeck.dev/tapedeck/internal/ownerlock"
)

// envIdle makes the test binary a process that runs until its stdin
// closes (see TestMain).
const envIdle = "RELAY_TEST_IDLE"

func TestMain(m *testing.M) {
	if os.Getenv(envIdle) != "" {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeOwner accepts one connection on its listener and answers each
// request with {"id": id, "result": {"owner": name}}, recording the
// methods it saw, until the connection ends or stop is called. Requests
// for hangMethod are never answered, like a tool call still running.
type fakeOwner struct {
	name    string
	ln      net.Listener
	methods chan string
	conn    chan net.Conn
}

func startFakeOwner(t *testing.T, socket, name string) *fakeOwner {
	t.Helper()
	ln, err := listenTest(socket)
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
			if msg.ID != nil && msg.Method != hangMethod {
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
	in   *io.PipeWriter
	out  *bufio.Scanner
	done <-chan error // Run's result, when the relay was started for it
}

// relayWithEditor runs a relay to a fake owner named "first" on a socket of
// its own, with an editor on its stdio that has done the initialize
// handshake.
func relayWithEditor(t *testing.T) (socket string, first *fakeOwner, ed *editor) {
	t.Helper()
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket = testSocket(dir)
	first = startFakeOwner(t, socket, "first")
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), inR, outW, Options{Socket: socket})
		outW.Close()
	}()
	ed = &editor{in: inW, out: bufio.NewScanner(outR), done: done}
	ed.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	if id, owner := ed.answer(t); id != "1" || owner != "first" {
		t.Fatalf("initialize answered by %s with id %s", owner, id)
	}
	ed.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return socket, first, ed
}

// close ends the editor's side of the session and returns what Run did.
func (e *editor) close() error {
	e.in.Close()
	return <-e.done
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

// hangMethod is a method a fakeOwner never answers.
const hangMethod = "test/hang"

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
	socket, first, ed := relayWithEditor(t)
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

	if err := ed.close(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestRelayAnswersRequestsLostWithOwner(t *testing.T) {
	socket, first, ed := relayWithEditor(t)
	ed.send(t, `{"jsonrpc":"2.0","id":"call-7","method":"`+hangMethod+`","params":{}}`)
	ed.send(t, `{"jsonrpc":"2.0","id":8,"method":"`+hangMethod+`","params":{}}`)
	for _, want := range []string{"initialize", "notifications/initialized", hangMethod, hangMethod} {
		if got := next(t, first.methods); got != want {
			t.Fatalf("first owner saw %s, want %s", got, want)
		}
	}

	first.stop() // the owner dies with both calls in flight
	lost := map[string]bool{}
	for range 2 {
		if !ed.out.Scan() {
			t.Fatalf("the relay closed: %v", ed.out.Err())
		}
		var msg struct {
			ID    json.RawMessage
			Error struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal(ed.out.Bytes(), &msg); err != nil {
			t.Fatalf("the relay sent %q: %v", ed.out.Bytes(), err)
		}
		if msg.Error.Code != -32603 || msg.Error.Message != ownerLostMessage {
			t.Errorf("lost request %s answered with %q, want error -32603 %q", msg.ID, ed.out.Bytes(), ownerLostMessage)
		}
		lost[string(msg.ID)] = true
	}
	if !lost[`"call-7"`] || !lost["8"] {
		t.Errorf("the relay answered ids %v, want \"call-7\" and 8", lost)
	}

	second := startFakeOwner(t, socket, "second")
	defer second.stop()
	for _, want := range []string{"initialize", "notifications/initialized"} {
		if got := next(t, second.methods); got != want {
			t.Fatalf("the new owner saw %s, want the replayed %s", got, want)
		}
	}
	// The session goes on; requests already answered are not answered
	// again when the next owner goes away.
	ed.send(t, `{"jsonrpc":"2.0","id":9,"method":"ping"}`)
	if id, owner := ed.answer(t); id != "9" || owner != "second" {
		t.Errorf("after the crash the editor got id %s from %s, want id 9 from second", id, owner)
	}

	if err := ed.close(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if ed.out.Scan() {
		t.Errorf("after the session ended the relay sent %q", ed.out.Bytes())
	}
}

// TestRelayWaitsForComingOwner writes a lock file and counts the relay's
// failed dials before it starts an owner, once: it starts at the first
// unless a process the file names (the owner, or the one taking over)
// runs; then it waits, for Options.Wait at most.
func TestRelayWaitsForComingOwner(t *testing.T) {
	gone := exec.Command(os.Args[0], "-test.run=^$")
	gone.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0") // under -race it idles at exit
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	exited := gone.Process.Pid
	// A process that runs until the test ends. (Not this test's parent:
	// under Wine a Windows program's parent is a Linux process, which
	// OpenProcess cannot see.)
	idle := exec.Command(os.Args[0], "-test.run=^$")
	idle.Env = append(os.Environ(), envIdle+"=1")
	stdin, err := idle.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		idle.Wait()
	})
	runs := idle.Process.Pid
	tests := []struct {
		name      string
		noDataDir bool
		record    *ownerlock.Owner // nil: no lock file
		wait      bool
	}{
		{name: "no_data_dir", noDataDir: true, record: &ownerlock.Owner{PID: runs}},
		{name: "no_lock_file"},
		{name: "released", record: &ownerlock.Owner{}},
		{name: "owner_crashed", record: &ownerlock.Owner{PID: exited}},
		{name: "owner_runs", record: &ownerlock.Owner{PID: runs}, wait: true},
		{name: "owner_is_this_process", record: &ownerlock.Owner{PID: os.Getpid()}},
		{name: "taker_exited", record: &ownerlock.Owner{Next: ownerlock.Successor{PID: exited}}},
		{name: "taker_runs", record: &ownerlock.Owner{Next: ownerlock.Successor{PID: runs}}, wait: true},
		{name: "taker_runs_owner_crashed", record: &ownerlock.Owner{PID: exited, Next: ownerlock.Successor{PID: runs}}, wait: true},
		{name: "taker_exited_owner_leaving", record: &ownerlock.Owner{PID: runs, Next: ownerlock.Successor{PID: exited}}, wait: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "relay")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			if tt.record != nil {
				b, err := json.Marshal(tt.record)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, ownerlock.FileName), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			socket := testSocket(dir)
			var failed, failedAtStart, starts atomic.Int32
			var owner *fakeOwner
			opts := Options{
				Socket: socket, DataDir: dir,
				// Short, so that a wait ends; the count below does not
				// depend on it.
				Wait: 200 * time.Millisecond,
				Dial: func(ctx context.Context, socket string) (net.Conn, error) {
					conn, err := localsock.Dial(ctx, socket)
					if err != nil {
						failed.Add(1)
					}
					return conn, err
				},
				StartOwner: func(context.Context) error {
					starts.Add(1)
					failedAtStart.Store(failed.Load())
					owner = startFakeOwner(t, socket, "started")
					return nil
				},
			}
			if tt.noDataDir {
				opts.DataDir = ""
			}
			in := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")
			var out strings.Builder
			if err := Run(t.Context(), in, &out, opts); err != nil {
				t.Fatal(err)
			}
			defer owner.stop()
			if got := next(t, owner.methods); got != "ping" {
				t.Errorf("the started owner saw %s", got)
			}
			if n := starts.Load(); n != 1 {
				t.Errorf("StartOwner called %d times, want 1", n)
			}
			switch n := failedAtStart.Load(); {
			case tt.wait && n < 2:
				t.Errorf("the relay started an owner at its first failed dial, want it to wait")
			case !tt.wait && n != 1:
				t.Errorf("the relay started an owner after %d failed dials, want at the first", n)
			}
		})
	}
}

func TestTrackedRequestID(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{name: "number", line: `{"jsonrpc":"2.0","id":7,"method":"tools/call"}`, want: "7"},
		{name: "string", line: `{"jsonrpc":"2.0","id":"a b","method":"tools/call"}`, want: `"a b"`},
		{name: "spaced", line: `{"jsonrpc":"2.0","id" : 7 ,"method":"ping"}`, want: "7"},
		{name: "notification", line: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`},
		{name: "answer_to_owner", line: `{"jsonrpc":"2.0","id":3,"result":{}}`},
		{name: "null_id", line: `{"jsonrpc":"2.0","id":null,"method":"ping"}`},
		{name: "listen_is_replayed", line: `{"jsonrpc":"2.0","id":4,"method":"subscriptions/listen"}`},
		{name: "malformed", line: `{"id":7,"method":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(trackedRequestID([]byte(tt.line))); got != tt.want {
				t.Errorf("trackedRequestID(%s) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestAnsweredID(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{name: "result", line: `{"jsonrpc":"2.0","id":7,"result":{}}`, want: "7"},
		{name: "error", line: `{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}`, want: `"x"`},
		{name: "owner_request", line: `{"jsonrpc":"2.0","id":1,"method":"elicitation/create"}`},
		{name: "notification", line: `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`},
		{name: "id_only_in_text", line: `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"\"id\""}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(answeredID([]byte(tt.line))); got != tt.want {
				t.Errorf("answeredID(%s) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

// FuzzMessageIDs feeds the relay's id readers arbitrary editor and owner
// lines: they must not panic, and an id they return must be compact JSON
// that reads back as itself, so a request and its answer match.
func FuzzMessageIDs(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, id := range []json.RawMessage{trackedRequestID(line), answeredID(line)} {
			if id == nil {
				continue
			}
			if !json.Valid(id) {
				t.Fatalf("id %q from %q is not JSON", id, line)
			}
			if again := compactID(id); string(again) != string(id) {
				t.Fatalf("id %q from %q compacts to %q", id, line, again)
			}
		}
	})
}
