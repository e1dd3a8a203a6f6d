package activity

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// replacer is a Redactor for tests.
type replacer map[string]bool

func (r replacer) String(s string) string {
	for v := range r {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// clock hands out increasing times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func openLog(t *testing.T, opts Options) *Log {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Now == nil {
		c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		opts.Now = c.now
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func seq(entries []Entry) []int {
	var out []int
	for _, e := range entries {
		n, _ := strconv.Atoi(e.Detail["seq"])
		out = append(out, n)
	}
	return out
}

func TestAppendRead(t *testing.T) {
	l := openLog(t, Options{})
	entries := []Entry{
		{Kind: KindLoad, Component: "weather"},
		{Kind: KindCall, Component: "weather", Tool: "forecast", Client: "claude", Result: "ok", Duration: 3 * time.Millisecond},
		{Kind: KindAsk, Component: "weather", Client: "claude", Detail: map[string]string{"host": "api.example.com"}},
		{Kind: KindCall, Component: "mail", Tool: "send", Client: "cursor", Result: "denied"},
		{Kind: KindUnload, Component: "weather"},
	}
	for i, e := range entries {
		if e.Detail == nil {
			e.Detail = map[string]string{}
		}
		e.Detail["seq"] = strconv.Itoa(i)
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := l.Read(Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(entries) {
		t.Fatalf("Read = %d entries, want %d", len(all), len(entries))
	}
	if all[1].Duration != 3*time.Millisecond || all[1].Tool != "forecast" || all[1].Time.IsZero() || all[1].Time.Location() != time.UTC {
		t.Errorf("entry did not round-trip: %+v", all[1])
	}
	tests := []struct {
		name   string
		filter Filter
		limit  int
		want   []int
	}{
		{name: "all", want: []int{0, 1, 2, 3, 4}},
		{name: "limit_keeps_newest", limit: 2, want: []int{3, 4}},
		{name: "component", filter: Filter{Component: "weather"}, want: []int{0, 1, 2, 4}},
		{name: "kinds", filter: Filter{Kinds: []Kind{KindCall, KindAsk}}, want: []int{1, 2, 3}},
		{name: "client", filter: Filter{Client: "cursor"}, want: []int{3}},
		{name: "tool", filter: Filter{Tool: "forecast"}, want: []int{1}},
		{name: "since", filter: Filter{Since: all[3].Time}, want: []int{3, 4}},
		{name: "until", filter: Filter{Until: all[1].Time}, want: []int{0}},
		{name: "none", filter: Filter{Component: "nope"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Read(tt.filter, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(seq(got)) != fmt.Sprint(tt.want) {
				t.Errorf("Read = %v, want %v", seq(got), tt.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	const maxSize, keep, n = 2048, 2, 200
	l := openLog(t, Options{Dir: dir, MaxSize: maxSize, Keep: keep})
	for i := range n {
		if err := l.Append(Entry{Kind: KindCall, Tool: "t", Detail: map[string]string{"seq": strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i <= keep; i++ {
		name := filepath.Join(dir, FileName)
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > maxSize {
			t.Errorf("%s is %d bytes, over MaxSize %d", name, fi.Size(), maxSize)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+"."+strconv.Itoa(keep+1))); !os.IsNotExist(err) {
		t.Errorf("more than Keep rotated files: %v", err)
	}
	got, err := l.Read(Filter{}, MaxReadLimit)
	if err != nil {
		t.Fatal(err)
	}
	s := seq(got)
	if len(s) == 0 || len(s) >= n || s[len(s)-1] != n-1 {
		t.Fatalf("after rotation Read = %v, want a tail of 0..%d", s, n-1)
	}
	for i := 1; i < len(s); i++ {
		if s[i] != s[i-1]+1 {
			t.Fatalf("entries out of order or missing across files: %v", s)
		}
	}
}

func TestRedaction(t *testing.T) {
	const secret = "tok-9f8e7d"
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir, Redactor: replacer{secret: true}})
	e := Entry{
		Kind:      KindCall,
		Component: "c-" + secret,
		Tool:      "t-" + secret,
		Client:    "cl-" + secret,
		Result:    "error: bad token " + secret,
		Detail:    map[string]string{"arg": "Bearer " + secret, "k-" + secret: "v"},
	}
	if err := l.Append(e); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatalf("the secret reached the file: %s", raw)
	}
	got, err := l.Read(Filter{}, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Read = %v, %v", got, err)
	}
	g := got[0]
	if g.Result != "error: bad token [redacted]" || g.Detail["arg"] != "Bearer [redacted]" || g.Detail["k-[redacted]"] != "v" ||
		g.Component != "c-[redacted]" || g.Tool != "t-[redacted]" || g.Client != "cl-[redacted]" {
		t.Errorf("redacted entry = %+v", g)
	}
	if e.Detail["arg"] != "Bearer "+secret {
		t.Error("Append changed the caller's Detail map")
	}
}

func TestOverlongEntryIsShortened(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir})
	big := strings.Repeat("é", MaxLineSize)
	many := map[string]string{}
	for i := range 200 {
		many[strconv.Itoa(i)] = strings.Repeat("x", maxFieldSize)
	}
	tests := []struct {
		name string
		e    Entry
	}{
		{name: "big_result", e: Entry{Kind: KindCall, Result: big, Detail: map[string]string{"a": big}}},
		{name: "many_details", e: Entry{Kind: KindCall, Detail: many}},
		{name: "big_names", e: Entry{Kind: KindCall, Component: big, Tool: big, Client: big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.Append(tt.e); err != nil {
				t.Fatal(err)
			}
			got, err := l.Read(Filter{}, 1)
			if err != nil || len(got) != 1 {
				t.Fatalf("Read = %v, %v", len(got), err)
			}
			if got[0].Detail["truncated"] != "true" {
				t.Errorf("shortened entry not marked: %v", got[0].Detail["truncated"])
			}
		})
	}
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4*MaxLineSize)
	for sc.Scan() {
		if len(sc.Bytes())+1 > MaxLineSize {
			t.Errorf("a line of %d bytes was written", len(sc.Bytes()))
		}
		if !json.Valid(sc.Bytes()) {
			t.Errorf("invalid JSON line written")
		}
	}
}

func TestReadSkipsDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	good := func(seq int) string {
		b, _ := json.Marshal(Entry{Kind: KindLoad, Detail: map[string]string{"seq": strconv.Itoa(seq)}})
		return string(b) + "\n"
	}
	content := good(0) +
		"not json\n" +
		strings.Repeat("z", 2*MaxLineSize) + "\n" +
		`{"kind":` + "\n" + // torn
		"{}\n" + // no kind
		good(1) +
		`{"time":"2026-01-01T00:00:00Z","kind":"load","detail":{"seq":"2"}` // torn last line, no newline
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir, Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seq(got)) != "[0 1]" {
		t.Errorf("Read = %v, want [0 1]", seq(got))
	}
	// Appending after a torn last line starts a fresh line, keeping the new entry readable.
	l := openLog(t, Options{Dir: dir})
	if err := l.Append(Entry{Kind: KindUnload, Detail: map[string]string{"seq": "3"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = l.Read(Filter{}, 0)
	if s := seq(got); len(s) == 0 || s[len(s)-1] != 3 {
		t.Errorf("after a torn line Read = %v, want 3 last", s)
	}
}

func TestReadEmptyDir(t *testing.T) {
	got, err := Read(t.TempDir(), Filter{}, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("Read of an empty folder = %v, %v", got, err)
	}
}

func TestClosed(t *testing.T) {
	l := openLog(t, Options{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(Entry{Kind: KindLoad}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := l.Read(Filter{}, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	const writers, each = 8, 200
	l := openLog(t, Options{MaxSize: 16 << 10, Keep: 50})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := l.Append(Entry{Kind: KindCall, Client: strconv.Itoa(w), Detail: map[string]string{"seq": strconv.Itoa(i)}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Read(Filter{}, 10); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := l.Read(Filter{}, MaxReadLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each {
		t.Fatalf("Read = %d entries, want %d", len(got), writers*each)
	}
	// Each writer's entries keep their order.
	last := map[string]int{}
	for _, e := range got {
		n, _ := strconv.Atoi(e.Detail["seq"])
		if prev, ok := last[e.Client]; ok && n != prev+1 {
			t.Fatalf("writer %s: entry %d after %d", e.Client, n, prev)
		}
		last[e.Client] = n
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
	}{
		{name: "short", in: "abc", max: 10},
		{name: "ascii", in: strings.Repeat("a", 100), max: 20},
		{name: "multibyte_boundary", in: strings.Repeat("日本", 50), max: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shorten(tt.in, tt.max)
			if len(got) > tt.max && len(tt.in) > tt.max {
				t.Errorf("len %d > %d", len(got), tt.max)
			}
			if !strings.HasPrefix(tt.in, strings.TrimSuffix(got, "…[cut]")) {
				t.Errorf("%q is not a prefix of the input", got)
			}
			if len(tt.in) <= tt.max && got != tt.in {
				t.Errorf("short input changed: %q", got)
			}
		})
	}
}

// FuzzRead feeds arbitrary file content to Read: it must not fail or
// return more than asked, whatever is on disk.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","kind":"call","tool":"t"}`+"\n"), 5)
	f.Add([]byte("garbage\n{\"kind\":\n"), 1)
	f.Fuzz(func(t *testing.T, content []byte, limit int) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), content, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Read(dir, Filter{}, limit)
		if err != nil {
			t.Fatal(err)
		}
		want := limit
		if want <= 0 {
			want = DefaultReadLimit
		}
		if len(got) > min(want, MaxReadLimit) {
			t.Fatalf("Read returned %d entries for limit %d", len(got), limit)
		}
		for _, e := range got {
			if e.Kind == "" {
				t.Fatalf("entry without a kind returned: %+v", e)
			}
		}
	})
}
