package secrets

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

func TestRedactor(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{name: "no_values", in: "token abc", want: "token abc"},
		{name: "one_value", values: []string{"hunter2"}, in: "pw=hunter2;again hunter2", want: "pw=[redacted];again [redacted]"},
		{name: "longest_wins", values: []string{"abc", "abcdef"}, in: "xabcdefx abc", want: "x[redacted]x [redacted]"},
		{name: "empty_value_ignored", values: []string{""}, in: "anything", want: "anything"},
		{name: "json_escaped", values: []string{`pa"ss\word`}, in: `{"v":"pa\"ss\\word"}`, want: `{"v":"[redacted]"}`},
		{name: "json_html_escaped", values: []string{"a<b&c"}, in: `{"v":"a\u003cb\u0026c"}`, want: `{"v":"[redacted]"}`},
		{name: "unicode", values: []string{"пароль"}, in: "x пароль y", want: "x [redacted] y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRedactor(tt.values...)
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := string(r.Bytes([]byte(tt.in))); got != tt.want {
				t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorZeroValue(t *testing.T) {
	var r Redactor
	if got := r.String("abc"); got != "abc" {
		t.Fatalf("zero Redactor changed the text: %q", got)
	}
	r.Add("abc")
	if got := r.String("abc"); got != Redacted {
		t.Fatalf("after Add: %q", got)
	}
}

func TestRedactorBytesUnchangedIsSameSlice(t *testing.T) {
	r := NewRedactor("secret")
	in := []byte("nothing here")
	if out := r.Bytes(in); &out[0] != &in[0] {
		t.Error("Bytes copied a slice it did not change")
	}
}

func TestRedactorMarshalledJSON(t *testing.T) {
	value := `tok"<en>&\x`
	r := NewRedactor(value)
	b, err := json.Marshal(map[string]string{"detail": "it was " + value})
	if err != nil {
		t.Fatal(err)
	}
	out := r.Bytes(b)
	if !json.Valid(out) {
		t.Fatalf("redaction broke the JSON: %s", out)
	}
	var m map[string]string
	json.Unmarshal(out, &m)
	if m["detail"] != "it was "+Redacted {
		t.Errorf("detail = %q", m["detail"])
	}
}

func TestRedactorConcurrent(t *testing.T) {
	r := &Redactor{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		v := strings.Repeat(string(rune('a'+i)), 5)
		go func() { defer wg.Done(); r.Add(v) }()
		go func() { defer wg.Done(); _ = r.String("aaaaa bbbbb ccccc") }()
	}
	wg.Wait()
	for i := range 8 {
		v := strings.Repeat(string(rune('a'+i)), 5)
		if got := r.String(v); got != Redacted {
			t.Errorf("value %q not redacted after concurrent Add: %q", v, got)
		}
	}
}

// FuzzRedactor checks that a value never survives redaction, wherever it
// sits in the text. Values sharing a byte with the marker are left out: the
// marker itself could then spell them.
func FuzzRedactor(f *testing.F) {
	f.Add("hunter2", "password is ", "!")
	f.Add("ab", "aab", "bb")
	f.Add(`q"uote`, `{"k":"`, `"}`)
	f.Fuzz(func(t *testing.T, value, prefix, suffix string) {
		if value == "" || strings.ContainsAny(value, Redacted) {
			t.Skip()
		}
		out := NewRedactor(value).String(prefix + value + suffix)
		if strings.Contains(out, value) {
			t.Fatalf("value %q survived in %q", value, out)
		}
	})
}
