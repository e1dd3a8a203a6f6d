package mcpbridge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
)

// rawSession speaks newline-delimited JSON-RPC to a Server by hand, for
// what a well-behaved client never sends.
type rawSession struct {
	in  io.Writer
	out *bufio.Reader
}

// newRawSession serves one stdio session of srv over pipes.
func newRawSession(t *testing.T, srv *Server) *rawSession {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.RunStdio(t.Context(), inR, outW); outW.Close() }()
	t.Cleanup(func() {
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("RunStdio: %v", err)
		}
	})
	return &rawSession{in: inW, out: bufio.NewReader(outR)}
}

func (r *rawSession) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(r.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (r *rawSession) read(t *testing.T) map[string]any {
	t.Helper()
	line, err := r.out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading the server's next message: %v", err)
	}
	var msg map[string]any
	if err := json.Unmarshal(line, &msg); err != nil {
		t.Fatalf("the server sent a line that is not JSON: %q", line)
	}
	return msg
}

// handshake runs a 2025-11-25 initialize.
func (r *rawSession) handshake(t *testing.T) {
	t.Helper()
	r.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	if msg := r.read(t); fmt.Sprint(msg["id"]) != "1" || msg["result"] == nil {
		t.Fatalf("initialize answered %v", msg)
	}
	r.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func TestMalformedJSONRPC(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantCode float64
	}{
		{"notJSON", `{not json`, -32700},
		{"notAnObject", `42`, -32700},
		{"unknownMethod", `{"jsonrpc":"2.0","id":7,"method":"tools/frobnicate","params":{}}`, -32601},
		{"paramsNotObject", `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":"x"}`, -32602},
		{"callUnknownTool", `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"nope","arguments":{}}}`, -32602},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := newRawSession(t, newServer(t, newFakeBackend(), Options{}))
			raw.handshake(t)
			raw.send(t, tt.line)
			msg := raw.read(t)
			e, ok := msg["error"].(map[string]any)
			if !ok || e["code"] != tt.wantCode {
				t.Errorf("answer = %v, want error code %v", msg, tt.wantCode)
			}
			// The session survives.
			raw.send(t, `{"jsonrpc":"2.0","id":99,"method":"ping"}`)
			if msg := raw.read(t); fmt.Sprint(msg["id"]) != "99" || msg["error"] != nil {
				t.Errorf("ping after bad input answered %v", msg)
			}
		})
	}
}

func TestStdioSessionEndsWithInput(t *testing.T) {
	srv := newServer(t, newFakeBackend(), Options{})
	in := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}` + "\n")
	var out strings.Builder
	// The SDK ends the session when its input ends, answered or not: an
	// editor that closes stdin is gone.
	if err := srv.RunStdio(t.Context(), in, &out); err != nil {
		t.Fatalf("RunStdio after the input ended: %v", err)
	}
}
