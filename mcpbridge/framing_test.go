package mcpbridge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

func TestGuardStream(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		passed     []string
		rejections int
	}{
		{"good", "{\"a\":1}\n[1]\n", []string{"{\"a\":1}\n", "[1]\n"}, 0},
		{"badThenGood", "{oops\n{\"a\":1}\n", []string{"{\"a\":1}\n"}, 1},
		{"blankLines", "\n  \n{}\n", []string{"{}\n"}, 0},
		{"scalar", "\"x\"\n", nil, 1},
		{"lastLineWithoutNewline", "{}", []string{"{}"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r, _ := guardStream(bytes.NewReader([]byte(tt.in)), &out, nil)
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for _, l := range tt.passed {
				want.WriteString(l)
			}
			if got := string(got); got != want.String() {
				t.Errorf("passed on %q, want %q", got, want.String())
			}
			if n := bytes.Count(out.Bytes(), []byte(`"code":-32700`)); n != tt.rejections {
				t.Errorf("%d parse errors written, want %d: %s", n, tt.rejections, out.Bytes())
			}
		})
	}
}

// FuzzGuardStream feeds arbitrary bytes to the line guard: every line it
// passes on is a JSON object or array, and everything it writes back is
// a parse error.
func FuzzGuardStream(f *testing.F) {
	f.Add([]byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"))
	f.Add([]byte("{oops\n[]\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		r, _ := guardStream(bytes.NewReader(data), &out, nil)
		passed, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(passed))
		sc.Buffer(nil, len(passed)+1)
		for sc.Scan() {
			if !looksLikeJSONRPC(sc.Bytes()) {
				t.Errorf("passed on %q", sc.Bytes())
			}
		}
		sc = bufio.NewScanner(&out)
		for sc.Scan() {
			var msg struct {
				Error struct{ Code int }
			}
			if err := json.Unmarshal(sc.Bytes(), &msg); err != nil || msg.Error.Code != -32700 {
				t.Errorf("wrote back %q", sc.Bytes())
			}
		}
	})
}
