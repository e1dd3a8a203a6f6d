package mcpbridge

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tapedeck.dev/tapedeck/internal/localsock"
)

func TestAnswersCountsRequestsUntilAnswered(t *testing.T) {
	a := newAnswers()
	s := a.session()
	s.read([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`))
	s.read([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)) // no answer due
	s.read([]byte(`[{"jsonrpc":"2.0","id":"b","method":"ping"},{"jsonrpc":"2.0","id":3,"method":"ping"}]`))
	s.wrote([]byte(`{"jsonrpc":"2.0","id":7,"method":"elicitation/create"}`)) // the server asks: not an answer
	s.read([]byte(`{"jsonrpc":"2.0","id":7,"result":{}}`))                    // the client answers it
	if a.n != 3 {
		t.Fatalf("%d requests waiting, want 3", a.n)
	}
	s.wrote([]byte(`{"jsonrpc":"2.0","id":"b","result":{}}`))
	s.wrote([]byte(`{"jsonrpc":"2.0","id":1.0,"result":{}}`)) // the same id, spelled otherwise
	s.wrote([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))   // no second answer counts
	if a.n != 1 {
		t.Fatalf("%d requests waiting, want 1", a.n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := a.wait(ctx); err == nil {
		t.Fatal("wait returned with a request unanswered")
	}
	s.end() // the client went away: its last request will never be answered
	if err := a.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.read([]byte(`{"jsonrpc":"2.0","id":9,"method":"ping"}`)) // after the end: nobody to answer
	if a.n != 0 {
		t.Fatalf("%d requests waiting after the session ended, want 0", a.n)
	}
}

// TestDrainWaitsForAnswersToBeWritten: a hand-over must not close a
// session between a tool handler's return and its answer reaching the
// socket. The client here reads nothing at first, so the large answer
// cannot be written; Drain must wait for it.
func TestDrainWaitsForAnswersToBeWritten(t *testing.T) {
	fb, srv, path := serveEcho(t)
	conn, err := localsock.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := &rawSession{in: conn, out: bufio.NewReaderSize(conn, 1<<20)}
	r.handshake(t)
	msg := strings.Repeat("x", 4<<20) // far more than the socket buffers hold
	r.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":%q}}}`, msg))
	for fb.lastCall().Tool != "echo" {
		time.Sleep(time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := srv.Drain(ctx); err == nil {
		t.Fatal("Drain returned while the call's answer was still unwritten")
	}

	got := make(chan map[string]any, 1)
	go func() { got <- r.read(t) }()
	if err := srv.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	ans := <-got
	if fmt.Sprint(ans["id"]) != "2" || ans["result"] == nil {
		t.Fatalf("answer %.200v, want the echo result", ans)
	}
}
