package policy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/edit")

// TestEditKeepsComments applies edits to testdata/edit/NAME.in.yaml and
// compares the result with NAME.golden.yaml (go test -update rewrites it).
// It also checks what the edited file means, so a golden file cannot
// quietly record a wrong edit.
func TestEditKeepsComments(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Policy) error
		want Permissions
	}{
		{
			name: "grant",
			edit: func(p *Policy) error {
				return firstErr(
					p.AddStorage(AllowList, "fs:///home/me/weather", Write), // merges into the read entry
					p.AddStorage(AllowList, "fs:///home/me/weather/", Read), // same URI: nothing to add
					p.AddStorage(AllowList, "fs:///tmp/out/**", Write, Read, Write),
					p.AddNetwork(AllowList, "API.openweathermap.org."), // same host: not added twice
					p.AddNetwork(AllowList, "https://tile.example.com:8443"),
					p.AddNetwork(DenyList, "*.ads.example.com"),
					p.AddNetwork(AllowList, "192.168.1.0/24"),
					p.AddEnvironment(AllowList, "OPENWEATHER_API_KEY"),
					p.AddEnvironment(AllowList, "UNITS"),
				)
			},
			want: Permissions{
				Storage: StorageRules{Allow: []StorageRule{
					{URI: "fs:///home/me/weather", Access: []AccessMode{Read, Write}},
					{URI: "fs:///tmp/out/**", Access: []AccessMode{Read, Write}},
				}},
				Network: NetworkRules{
					Allow: []NetworkRule{{Host: "api.openweathermap.org"}, {Host: "https://tile.example.com:8443"}, {CIDR: "192.168.1.0/24"}},
					Deny:  []NetworkRule{{Host: "*.ads.example.com"}},
				},
				Environment: EnvironmentRules{Allow: []EnvironmentRule{{Key: "OPENWEATHER_API_KEY"}, {Key: "UNITS"}}},
			},
		},
		{
			name: "revoke",
			edit: func(p *Policy) error {
				return firstErr(
					mustChange(p.RemoveStorage(AllowList, "fs:///home/me/project/**", Write)),
					mustChange(p.RemoveStorage(AllowList, "fs:///tmp/scratch")),
					mustChange(p.RemoveNetwork(AllowList, "https://other.example.com")),
					mustChange(p.RemoveNetwork(AllowList, "10.0.0.0/8")),
					mustChange(p.RemoveNetwork(DenyList, "internal.example.com")),
					mustChange(p.RemoveEnvironment(AllowList, "A")),
					mustNotChange(p.RemoveEnvironment(AllowList, "A")),
					mustNotChange(p.RemoveNetwork(AllowList, "http://api.example.com")), // a different rule
				)
			},
			want: Permissions{
				Storage:     StorageRules{Allow: []StorageRule{{URI: "fs:///home/me/project/**", Access: []AccessMode{Read}}}},
				Network:     NetworkRules{Allow: []NetworkRule{{Host: "api.example.com"}}},
				Environment: EnvironmentRules{Allow: []EnvironmentRule{{Key: "B"}}},
			},
		},
		{
			name: "reset",
			edit: func(p *Policy) error { return p.Reset() },
			want: Permissions{},
		},
		{
			name: "flow-empty",
			edit: func(p *Policy) error {
				return p.AddStorage(AllowList, "fs:///home/me/code/**", Read)
			},
			want: Permissions{Storage: StorageRules{Allow: []StorageRule{{URI: "fs:///home/me/code/**", Access: []AccessMode{Read}}}}},
		},
		{
			name: "empty",
			edit: func(p *Policy) error {
				return firstErr(
					p.AddNetwork(AllowList, "http://127.0.0.1:8080"),
					p.AddStorage(DenyList, "fs:///home/me/.ssh", Read, Write),
					p.SetMemoryLimit("256Mi"),
					p.SetMemoryLimit("512Mi"),
				)
			},
			want: Permissions{
				Storage: StorageRules{Deny: []StorageRule{{URI: "fs:///home/me/.ssh", Access: []AccessMode{Read, Write}}}},
				Network: NetworkRules{Allow: []NetworkRule{{Host: "http://127.0.0.1:8080"}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "edit", tt.name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.edit(p); err != nil {
				t.Fatal(err)
			}
			got, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "edit", tt.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("edited policy differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
			reread, err := Parse(got)
			if err != nil {
				t.Fatalf("edited policy does not parse: %v\n%s", err, got)
			}
			if perms := reread.Permissions(); !reflect.DeepEqual(perms, tt.want) {
				t.Errorf("edited policy means\n %+v\nwant\n %+v", perms, tt.want)
			}
			if perms := p.Permissions(); !reflect.DeepEqual(perms, tt.want) {
				t.Errorf("policy in memory after edit means\n %+v\nwant\n %+v", perms, tt.want)
			}
		})
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func mustChange(changed bool, err error) error {
	if err == nil && !changed {
		return errUnchanged
	}
	return err
}

func mustNotChange(changed bool, err error) error {
	if err == nil && changed {
		return errChanged
	}
	return err
}

type editError string

func (e editError) Error() string { return string(e) }

const (
	errUnchanged = editError("a remove that should have changed the policy did not")
	errChanged   = editError("a remove that should have changed nothing changed the policy")
)

func TestEditRefusesInvalidRules(t *testing.T) {
	p := mustParse(t, "version: \"1.0\"\n")
	before, _ := p.Marshal()
	tests := []struct {
		name string
		err  error
	}{
		{"StorageRelative", p.AddStorage(AllowList, "fs://relative", Read)},
		{"StorageNoAccess", p.AddStorage(AllowList, "fs:///x")},
		{"StorageBadAccess", p.AddStorage(AllowList, "fs:///x", "exec")},
		{"NetworkStarAllow", p.AddNetwork(AllowList, "*")},
		{"NetworkPath", p.AddNetwork(AllowList, "https://a.com/x")},
		{"EnvWildcard", p.AddEnvironment(AllowList, "A*")},
		{"MemoryBad", p.SetMemoryLimit("lots")},
		{"RemoveBadURI", func() error { _, err := p.RemoveStorage(AllowList, "x"); return err }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Error("invalid edit accepted")
			}
		})
	}
	if after, _ := p.Marshal(); !bytes.Equal(before, after) {
		t.Errorf("refused edits changed the policy:\n%s", after)
	}
}

func TestSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.policy.yaml")
	p, err := Load(path) // missing: empty
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AddNetwork(AllowList, "api.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new policy file has mode %v, want 0600", fi.Mode().Perm())
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := q.Decide(Network{Scheme: "https", Host: "api.example.com", Port: 443}, Protected{}); d.Verdict != Allow {
		t.Errorf("saved grant not in the loaded policy: %s", d)
	}
	if err := q.AddEnvironment(AllowList, "K"); err != nil {
		t.Fatal(err)
	}
	if err := q.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("saving changed the file's mode: %v %v", fi.Mode().Perm(), err)
	}
}

// TestDecideWhileEditing is for the race detector: decisions and edits run
// at once on one policy.
func TestDecideWhileEditing(t *testing.T) {
	p := New()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			p.AddNetwork(AllowList, "api.example.com")
			p.RemoveNetwork(AllowList, "api.example.com")
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			d := p.Decide(Network{Scheme: "https", Host: "api.example.com", Port: 443}, Protected{})
			if d.Verdict == Deny {
				t.Errorf("decided %s; only allow or ask are possible", d)
				return
			}
			p.Permissions()
		}
	}()
	wg.Wait()
}
