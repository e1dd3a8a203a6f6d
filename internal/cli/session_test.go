package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
	"tapedeck.dev/tapedeck/sandbox/activity"
)

// session is one data dir driven through Run, as a person at a shell would.
type session struct {
	t    *testing.T
	data string
}

func newSession(t *testing.T) *session {
	t.Helper()
	// Short, so the socket path under it fits a unix address.
	dir, err := os.MkdirTemp("", "tdverb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &session{t: t, data: dir}
}

// result is what one command did.
type result struct {
	out, err string
	code     int
}

// run runs args with TAPEDECK_DATA_DIR set to the session's data dir and
// empty stdin that is not a terminal.
func (s *session) run(args ...string) result {
	s.t.Helper()
	return s.runWith("", false, args...)
}

// runWith runs args with stdin and, when terminal, stdin posing as a terminal.
func (s *session) runWith(stdin string, terminal bool, args ...string) result {
	s.t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, StdinIsTerminal: terminal,
		Getenv: func(k string) string {
			if k == "TAPEDECK_DATA_DIR" {
				return s.data
			}
			return ""
		}}
	code := Run(context.Background(), env, args)
	return result{out: out.String(), err: errb.String(), code: code}
}

// must runs args and fails the test unless they exit 0.
func (s *session) must(args ...string) string {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("tapedeck %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// load loads the c-tool test component as "calc".
func (s *session) loadCalc() {
	s.t.Helper()
	data, err := os.ReadFile(testcomponents.Path(s.t, testcomponents.CTool))
	if err != nil {
		s.t.Fatal(err)
	}
	src := filepath.Join(s.t.TempDir(), "calc.wasm")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.must("component", "load", src)
}

// files lists the data dir's files with their contents, to show that a
// refused command changed nothing. The activity log and the lock record
// change with every command and are left out.
func (s *session) files() map[string]string {
	s.t.Helper()
	out := map[string]string{}
	filepath.WalkDir(s.data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return nil
		}
		rel, _ := filepath.Rel(s.data, path)
		if strings.HasPrefix(rel, "cache") || strings.HasPrefix(filepath.Base(rel), "activity") || filepath.Base(rel) == "owner.lock" {
			return nil
		}
		data, _ := os.ReadFile(path)
		out[rel] = string(data)
		return nil
	})
	return out
}

// activity returns the log entries of kind.
func (s *session) activity(kind activity.Kind) []activity.Entry {
	s.t.Helper()
	entries, err := activity.Read(s.data, activity.Filter{Kinds: []activity.Kind{kind}}, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

// decode parses JSON output into v, failing the test when it is not JSON.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not the JSON expected: %v\n%s", err, out)
	}
}

func sameFiles(t *testing.T, before, after map[string]string) {
	t.Helper()
	var diff []string
	for k, v := range after {
		if w, ok := before[k]; !ok || w != v {
			diff = append(diff, "changed or added "+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			diff = append(diff, "removed "+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("the data dir changed: %s", strings.Join(diff, "; "))
	}
}
