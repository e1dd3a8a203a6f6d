package mcpbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// answers counts, across the stream sessions it follows, the requests
// clients sent that have not been answered yet. A hand-over waits for it
// to reach zero: a tool handler that returned has not written its answer
// yet, and closing the session then would lose it (the relay would have to
// answer the editor with an error for a call that in fact ran).
type answers struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed while n == 0; replaced when n leaves 0
}

func newAnswers() *answers {
	z := make(chan struct{})
	close(z)
	return &answers{zero: z}
}

func (a *answers) add(d int) {
	if d == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == 0 {
		a.zero = make(chan struct{})
	}
	a.n += d
	if a.n == 0 {
		close(a.zero)
	}
}

// wait returns once no request is waiting for its answer, or with ctx's
// error.
func (a *answers) wait(ctx context.Context) error {
	a.mu.Lock()
	zero := a.zero
	a.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// session follows one session's stream: the ids of requests read and not
// yet answered.
func (a *answers) session() *sessionAnswers {
	return &sessionAnswers{total: a, ids: map[string]bool{}}
}

// sessionAnswers is one session's share of answers.
type sessionAnswers struct {
	total *answers
	mu    sync.Mutex
	ids   map[string]bool
	ended bool
}

// read notes the requests in a message the client sent.
func (s *sessionAnswers) read(msg []byte) {
	s.update(msg, true)
}

// wrote notes the answers in a message written to the client.
func (s *sessionAnswers) wrote(msg []byte) {
	s.update(msg, false)
}

// end forgets what was not answered: the client is gone.
func (s *sessionAnswers) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total.add(-len(s.ids))
	s.ids, s.ended = nil, true
}

// update adds the ids of requests (a method and an id) when in, and removes
// the ids of responses (an id, no method) when not. Requests the server
// sends and the client's answers to them carry ids too; they are neither.
func (s *sessionAnswers) update(msg []byte, in bool) {
	var ms []struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	t := bytes.TrimSpace(msg)
	if len(t) > 0 && t[0] == '{' {
		t = append(append([]byte{'['}, t...), ']')
	}
	if json.Unmarshal(t, &ms) != nil {
		return // the line guard or the SDK answers what cannot be read
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	d := 0
	for _, m := range ms {
		if len(m.ID) == 0 || string(m.ID) == "null" {
			continue
		}
		id := idKey(m.ID)
		switch {
		case in && m.Method != "" && !s.ids[id]:
			s.ids[id] = true
			d++
		case !in && m.Method == "" && s.ids[id]:
			delete(s.ids, id)
			d--
		}
	}
	s.total.add(d)
}

// idKey is a request id in one spelling: the SDK writes an id back in its
// own (1.0 comes back as 1).
func idKey(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return fmt.Sprintf("%T:%v", v, v)
}
