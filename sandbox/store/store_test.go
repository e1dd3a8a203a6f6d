package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"tapedeck.dev/tapedeck/internal/testcomponents"
)

// mustOpen opens the store over dir; its writes from then on go to fsys.
func mustOpen(t testing.TB, dir string, fsys fileSystem) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	s.fs = fsys
	return s
}

// version builds an Entry whose every file names v, so a test can tell
// which Put each file on disk came from.
func version(t testing.TB, v, componentName string, withPolicy bool) Entry {
	e := Entry{
		Wasm: component(t, componentName),
		Metadata: &Metadata{
			ToolSchemas: []json.RawMessage{json.RawMessage(`{"name":"tool-` + v + `","inputSchema":{"type":"object"}}`)},
			ToolNames:   []string{"tool-" + v},
		},
		Settings: Settings{Source: "source-" + v, Env: map[string]string{"WHICH": v}},
	}
	if withPolicy {
		e.Policy = policyYAML(v)
	}
	return e
}

// checkIs fails unless got is exactly what Put(want) stores.
func checkIs(t *testing.T, got *Component, want Entry) {
	t.Helper()
	if got.Digest != digestOf(want.Wasm) {
		t.Fatalf("code %s, want %s", got.Digest, digestOf(want.Wasm))
	}
	if string(got.Policy) != string(want.Policy) || (got.Policy == nil) != (want.Policy == nil) {
		t.Fatalf("policy %q, want %q: the component is a mix of two versions", got.Policy, want.Policy)
	}
	if got.Settings.Source != want.Settings.Source || got.Settings.CodeDigest != got.Digest {
		t.Fatalf("settings %+v do not belong to code %s (want source %q)", got.Settings, got.Digest, want.Settings.Source)
	}
	if got.Metadata == nil || !slices.Equal(got.Metadata.ToolNames, want.Metadata.ToolNames) {
		t.Fatalf("metadata %+v, want tools %v", got.Metadata, want.Metadata.ToolNames)
	}
}

// checkClean fails when the store left temporary or staged files behind.
func checkClean(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == stagingDirName {
			staged, _ := os.ReadDir(filepath.Join(dir, stagingDirName))
			if len(staged) > 0 {
				t.Errorf("staged files left behind: %v", staged)
			}
			continue
		}
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestPutGetList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, osFS{})
	e := version(t, "one", testcomponents.CTool, true)
	e.Settings.CallTimeout = 42e9
	if err := s.Put("c-tool", e); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("c-tool")
	if err != nil {
		t.Fatal(err)
	}
	checkIs(t, got, e)
	if got.Metadata.ComponentID != "c-tool" || got.Metadata.ValidationStamp.Digest() != got.Digest || got.Metadata.CreatedAt == 0 {
		t.Errorf("metadata not stamped: %+v", got.Metadata)
	}
	if got.Settings.CallTimeout != e.Settings.CallTimeout || got.Settings.Env["WHICH"] != "one" {
		t.Errorf("settings %+v, want %+v", got.Settings, e.Settings)
	}

	var names []string
	entries, _ := os.ReadDir(dir)
	for _, de := range entries {
		if !de.IsDir() {
			names = append(names, de.Name())
		}
	}
	want := []string{"c-tool.metadata.json", "c-tool.policy.yaml", "c-tool.tapedeck.json", "c-tool.wasm"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want Wassette's layout %v", names, want)
	}
	checkClean(t, dir)

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "c-tool" || list[0].Metadata == nil || list[0].Err != nil ||
		list[0].Settings.CodeDigest != got.Digest {
		t.Fatalf("List = %+v", list)
	}
}

func TestPutRefuses(t *testing.T) {
	t.Parallel()
	good := component(t, testcomponents.CTool)
	core := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	tests := []struct {
		name  string
		id    string
		entry Entry
		want  string
	}{
		{"path-in-id", "../evil", Entry{Wasm: good}, "must start with a letter or digit"},
		{"slash-in-id", "a/b", Entry{Wasm: good}, "use only letters"},
		{"core-module", "core", Entry{Wasm: core}, "core WebAssembly module"},
		{"not-wasm", "html", Entry{Wasm: []byte("<html><body>404</body></html>")}, "HTML"},
		{"bad-policy", "badpolicy", Entry{Wasm: good, Policy: []byte("version: \"2.0\"\n")}, "policy"},
		{"bad-env-name", "badenv", Entry{Wasm: good, Settings: Settings{Env: map[string]string{"A=B": "x"}}}, "environment variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, osFS{})
			err := s.Put(tt.id, tt.entry)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Put = %v, want an error saying %q", err, tt.want)
			}
			if list, _ := s.List(); len(list) != 0 {
				t.Errorf("a refused Put left %v", list)
			}
			checkClean(t, dir)
		})
	}
}

func TestPutReplacesEveryFile(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, t.TempDir(), osFS{})
	if err := s.Put("x", version(t, "old", testcomponents.CTool, true)); err != nil {
		t.Fatal(err)
	}
	newer := Entry{Wasm: component(t, testcomponents.CEnv)} // no policy, no metadata
	if err := s.Put("x", newer); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("x")
	if err != nil {
		t.Fatal(err)
	}
	if got.Policy != nil || got.Metadata != nil || got.Settings.Source != "" {
		t.Errorf("the old component's files survived its replacement: policy %q, metadata %+v, settings %+v", got.Policy, got.Metadata, got.Settings)
	}
	if got.Digest != digestOf(newer.Wasm) {
		t.Errorf("code %s, want the new code", got.Digest)
	}
}

// TestPutAtomic fails each write of a Put in turn — once (a full disk) or
// from there on (a crash) — and checks that the component is then entirely
// the old one or entirely the new one, in the process and after a restart.
func TestPutAtomic(t *testing.T) {
	t.Parallel()
	for _, newHasPolicy := range []bool{true, false} {
		oldEntry := version(t, "old", testcomponents.CTool, true)
		newEntry := version(t, "new", testcomponents.CEnv, newHasPolicy)

		// A successful Put, counted: its writes are the steps to fail.
		dir := t.TempDir()
		if err := mustOpen(t, dir, osFS{}).Put("x", oldEntry); err != nil {
			t.Fatal(err)
		}
		counter := &faultyFS{}
		if err := mustOpen(t, dir, counter).Put("x", newEntry); err != nil {
			t.Fatal(err)
		}
		commitAt := slices.IndexFunc(counter.ops, func(op string) bool {
			return op == "rename "+filepath.Join(dir, stagingDirName, "x", commitFile+".tmp")
		}) + 1
		if commitAt == 0 {
			t.Fatalf("no commit among the writes %q", counter.ops)
		}

		for _, crash := range []bool{false, true} {
			for step := 1; step <= len(counter.ops); step++ {
				name := fmt.Sprintf("policy=%t/crash=%t/step%02d", newHasPolicy, crash, step)
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					if err := mustOpen(t, dir, osFS{}).Put("x", oldEntry); err != nil {
						t.Fatal(err)
					}
					f := &faultyFS{failAt: step, crash: crash, err: errDiskFull}
					s := mustOpen(t, dir, f)
					err := s.Put("x", newEntry)
					if err == nil {
						t.Fatalf("Put succeeded though write %d (%s) failed", step, counter.ops[step-1])
					}
					// The change is decided once the commit record is
					// renamed into place and that rename synced; a crash
					// right after the rename keeps it too.
					want := oldEntry
					if step > commitAt+1 || crash && step == commitAt+1 {
						want = newEntry
					} else if !isDiskFull(err) || !strings.Contains(err.Error(), "disk is full") || !strings.Contains(err.Error(), "unchanged") {
						t.Errorf("error %q does not say the disk is full and the old version is unchanged", err)
					}
					if !crash {
						// The same process carries on once the disk has room.
						f.mu.Lock()
						f.failAt = 0
						f.mu.Unlock()
						got, err := s.Get("x")
						if err != nil {
							t.Fatalf("Get after a failed Put: %v", err)
						}
						checkIs(t, got, want)
						checkClean(t, dir)
					}
					restarted := mustOpen(t, dir, osFS{})
					got, err := restarted.Get("x")
					if err != nil {
						t.Fatalf("Get after restart: %v", err)
					}
					checkIs(t, got, want)
					checkClean(t, dir)
				})
			}
		}
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, osFS{})
	if err := s.Put("x", version(t, "old", testcomponents.CTool, true)); err != nil {
		t.Fatal(err)
	}
	// Files Wassette keeps beside a component go too.
	if err := os.WriteFile(filepath.Join(dir, "x.cwasm"), []byte("native"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("x"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return !e.IsDir() }) {
		t.Errorf("files left after Remove: %v", entries)
	}
	if err := s.Remove("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	if _, err := s.Get("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove = %v, want ErrNotFound", err)
	}
}

// TestRemoveAtomic crashes a Remove at each write: after a restart the
// component is either intact or entirely gone.
func TestRemoveAtomic(t *testing.T) {
	t.Parallel()
	old := version(t, "old", testcomponents.CTool, true)
	dir := t.TempDir()
	if err := mustOpen(t, dir, osFS{}).Put("x", old); err != nil {
		t.Fatal(err)
	}
	counter := &faultyFS{}
	if err := mustOpen(t, dir, counter).Remove("x"); err != nil {
		t.Fatal(err)
	}
	commitAt := slices.IndexFunc(counter.ops, func(op string) bool {
		return strings.HasSuffix(op, commitFile+".tmp") && strings.HasPrefix(op, "rename")
	}) + 1
	for step := 1; step <= len(counter.ops); step++ {
		t.Run(fmt.Sprintf("step%02d", step), func(t *testing.T) {
			dir := t.TempDir()
			if err := mustOpen(t, dir, osFS{}).Put("x", old); err != nil {
				t.Fatal(err)
			}
			if err := mustOpen(t, dir, &faultyFS{failAt: step, crash: true, err: errDiskFull}).Remove("x"); err == nil {
				t.Fatalf("Remove succeeded though write %d failed", step)
			}
			restarted := mustOpen(t, dir, osFS{})
			got, err := restarted.Get("x")
			if step <= commitAt { // a crash at the commit's sync keeps the record: gone
				if err != nil {
					t.Fatalf("Get after an uncommitted Remove: %v", err)
				}
				checkIs(t, got, old)
			} else {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get after a committed Remove = %v, want ErrNotFound", err)
				}
				if entries, _ := os.ReadDir(dir); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return !e.IsDir() }) {
					t.Errorf("files left after a committed Remove: %v", entries)
				}
			}
			checkClean(t, dir)
		})
	}
}

// TestConcurrentPut has writers replace one id with two versions at once
// while readers check every read is one whole version.
func TestConcurrentPut(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, t.TempDir(), osFS{})
	versions := []Entry{
		version(t, "a", testcomponents.CTool, true),
		version(t, "b", testcomponents.CEnv, false),
	}
	byDigest := map[string]Entry{}
	for _, v := range versions {
		byDigest[digestOf(v.Wasm)] = v
	}
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	var writers, readers sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 100)
	for w := range 6 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for r := range rounds {
				if err := s.Put("x", versions[(w+r)%2]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.Get("x")
				if errors.Is(err, ErrNotFound) {
					continue // before the first Put
				}
				if err != nil {
					errs <- err
					return
				}
				want, ok := byDigest[got.Digest]
				if !ok || string(got.Policy) != string(want.Policy) || got.Settings.Source != want.Settings.Source {
					errs <- fmt.Errorf("read a mix: code %s, policy %q, settings %+v", got.Digest, got.Policy, got.Settings)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Get("x")
	if err != nil {
		t.Fatal(err)
	}
	checkIs(t, got, byDigest[got.Digest])
}

func TestMetadataStamp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, osFS{})
	e := version(t, "one", testcomponents.CTool, false)
	if err := s.Put("x", e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadMetadata("x"); err != nil {
		t.Fatalf("fresh metadata: %v", err)
	}

	// Someone replaces the code by hand: the metadata no longer describes it.
	other := component(t, testcomponents.CEnv)
	if err := os.WriteFile(filepath.Join(dir, "x.wasm"), other, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadMetadata("x"); !errors.Is(err, ErrStale) {
		t.Errorf("ReadMetadata after the code changed = %v, want ErrStale", err)
	}
	if list, err := s.List(); err != nil || len(list) != 1 || list[0].Metadata != nil {
		t.Errorf("List after the code changed = %+v, %v; want the component without metadata", list, err)
	}
	got, err := s.Get("x")
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata != nil {
		t.Errorf("Get returned metadata of other code: %+v", got.Metadata)
	}

	// Metadata made from the old code is refused; from the new code, kept.
	if err := s.WriteMetadata("x", digestOf(e.Wasm), e.Metadata); !errors.Is(err, ErrStale) {
		t.Errorf("WriteMetadata for other code = %v, want ErrStale", err)
	}
	if err := s.WriteMetadata("x", got.Digest, e.Metadata); err != nil {
		t.Fatal(err)
	}
	m, err := s.ReadMetadata("x")
	if err != nil {
		t.Fatal(err)
	}
	if m.ValidationStamp.Digest() != got.Digest || !slices.Equal(m.ToolNames, e.Metadata.ToolNames) {
		t.Errorf("metadata %+v not stamped for %s", m, got.Digest)
	}
	if err := s.WriteMetadata("nothing", got.Digest, e.Metadata); !errors.Is(err, ErrNotFound) {
		t.Errorf("WriteMetadata of a missing component = %v, want ErrNotFound", err)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, osFS{})
	e := version(t, "one", testcomponents.CTool, true)
	if err := s.Put("x", e); err != nil {
		t.Fatal(err)
	}
	digest := digestOf(e.Wasm)
	pending := &PendingPolicy{Policy: string(policyYAML("proposed")), Source: "oci://example/x", CodeDigest: digest}
	want := Settings{Disabled: true, CallTimeout: 5e9, MemoryLimit: 64 << 20, Env: map[string]string{"API_URL": "https://x"},
		Source: "elsewhere", GrantsDigest: digest, PendingPolicy: pending,
		CodeDigest: "sha256:" + strings.Repeat("0", 64)} // ignored: the store keeps the code's digest
	if err := s.SetSettings("x", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Settings("x")
	if err != nil {
		t.Fatal(err)
	}
	want.CodeDigest = digest
	if a, b := mustMarshal(t, got), mustMarshal(t, want); a != b {
		t.Errorf("Settings = %s\nwant %s", a, b)
	}

	tests := []struct {
		name string
		id   string
		st   Settings
		want error
	}{
		{"missing-component", "nothing", Settings{}, ErrNotFound},
		{"negative-timeout", "x", Settings{CallTimeout: -1}, nil},
		{"bad-pending-policy", "x", Settings{PendingPolicy: &PendingPolicy{Policy: "permissions: [oops"}}, nil},
		{"bad-grants-digest", "x", Settings{GrantsDigest: "md5:abc"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetSettings(tt.id, tt.st)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("SetSettings = %v, want an error (%v)", err, tt.want)
			}
		})
	}

	// A damaged settings file is reported with its path; List still lists.
	path := filepath.Join(dir, "x.tapedeck.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("x"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Get with damaged settings = %v, want an error naming %s", err, path)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Err == nil {
		t.Errorf("List with damaged settings = %+v, %v; want the component with its Err set", list, err)
	}
}

func mustMarshal(t *testing.T, s Settings) string {
	t.Helper()
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestOpenDiscardsUncommittedChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, osFS{})
	old := version(t, "old", testcomponents.CTool, true)
	if err := s.Put("x", old); err != nil {
		t.Fatal(err)
	}
	// A crash after staging, before the commit record.
	stage := filepath.Join(dir, stagingDirName, "x")
	if err := os.MkdirAll(stage, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stage, "x.wasm"), component(t, testcomponents.CEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := mustOpen(t, dir, osFS{}).Get("x")
	if err != nil {
		t.Fatal(err)
	}
	checkIs(t, got, old)
	checkClean(t, dir)
}

// BenchmarkList measures what start-up pays to list 20 installed components
// from their metadata (the Host's start-up budget is 200 ms for this many).
func BenchmarkList(b *testing.B) {
	s := mustOpen(b, b.TempDir(), osFS{})
	for i := range 20 {
		if err := s.Put(fmt.Sprintf("c%02d", i), version(b, fmt.Sprint(i), testcomponents.JSWASI, true)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		list, err := s.List()
		if err != nil || len(list) != 20 || list[19].Metadata == nil {
			b.Fatalf("List = %d components, %v", len(list), err)
		}
	}
}
