package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"tapedeck.dev/tapedeck/sandbox/policy"
)

// The files of one component, by suffix after the id.
const (
	wasmSuffix     = ".wasm"
	policySuffix   = ".policy.yaml"
	metadataSuffix = ".metadata.json"
	settingsSuffix = ".tapedeck.json"
)

// wassetteExtraSuffixes are files Wassette keeps beside a component (its
// precompiled code and policy bookkeeping). Tapedeck never writes them, but
// removing a component removes them too.
var wassetteExtraSuffixes = []string{".cwasm", ".policy.meta.json"}

// installOrder is the order Put moves staged files into place: the code last,
// so that a component is listed only once everything of it is there.
var installOrder = []string{policySuffix, metadataSuffix, settingsSuffix, wasmSuffix}

// stagingDirName is the folder inside the component directory where Put and
// Remove prepare their changes. It is a folder and starts with a dot, so a
// scan for <id>.wasm files at the top level (List, Wassette's start-up)
// passes over it.
const stagingDirName = ".staging"

// commitFile marks a staged change as decided: once it exists, the change is
// finished (rolled forward) by whoever touches the id next.
const commitFile = "COMMIT"

const filePerm = 0o600

// Store is a component directory. Create one with [Open]. Its methods are
// safe for concurrent use; operations on one id run one at a time.
type Store struct {
	dir string
	fs  fileSystem

	mu    sync.Mutex
	locks map[string]*idLock
}

type idLock struct {
	sync.Mutex
	users int // goroutines holding or waiting for the lock
}

// Open returns the store over dir, creating the folder (0700) when missing,
// and finishes or discards any change a crash interrupted.
func Open(dir string) (*Store, error) {
	return open(dir, osFS{})
}

func open(dir string, fsys fileSystem) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open component store: no folder given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open component store %s: %w", dir, err)
	}
	s := &Store{dir: abs, fs: fsys, locks: map[string]*idLock{}}
	if err := fsys.mkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open component store: create %s: %w", abs, err)
	}
	pending, err := os.ReadDir(s.stagingRoot())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open component store: %w", err)
	}
	for _, e := range pending {
		id := e.Name()
		if ValidateID(id) != nil {
			continue // not ours: leave it for a person to look at
		}
		unlock := s.lock(id)
		err := s.recover(id)
		unlock()
		if err != nil {
			return nil, fmt.Errorf("open component store: %w", err)
		}
	}
	return s, nil
}

// Dir returns the component directory's absolute path.
func (s *Store) Dir() string { return s.dir }

// PolicyPath returns where the policy of id lives, for sandbox/policy's Load
// and Save. It does not check that the component exists. Writes there are
// not serialized with Put and Remove of the same id: the caller must not
// save a policy while it replaces or removes that component.
func (s *Store) PolicyPath(id string) (string, error) {
	if err := ValidateID(id); err != nil {
		return "", err
	}
	return s.path(id, policySuffix), nil
}

func (s *Store) path(id, suffix string) string { return filepath.Join(s.dir, id+suffix) }
func (s *Store) stagingRoot() string           { return filepath.Join(s.dir, stagingDirName) }
func (s *Store) stagingDir(id string) string   { return filepath.Join(s.stagingRoot(), id) }

// lock takes the lock of id and returns its release.
func (s *Store) lock(id string) (unlock func()) {
	s.mu.Lock()
	l := s.locks[id]
	if l == nil {
		l = &idLock{}
		s.locks[id] = l
	}
	l.users++
	s.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.mu.Lock()
		if l.users--; l.users == 0 {
			delete(s.locks, id)
		}
		s.mu.Unlock()
	}
}

// Entry is everything Put writes for one component.
type Entry struct {
	// Wasm is the component's code. It must be a component (checked by its
	// preamble).
	Wasm []byte
	// Policy is the policy.yaml to install; it must parse. Nil means the
	// component has no policy file: an old one is removed. To keep a
	// policy across new code, read it with Get and pass it here — only
	// after a person approved carrying the grants over.
	Policy []byte
	// Metadata, when not nil, is written with its ComponentID,
	// ValidationStamp and (when zero) CreatedAt filled in by the store. Nil
	// means none: an old one is removed, and the runtime makes a new one.
	Metadata *Metadata
	// Settings are written with CodeDigest set to the code's digest.
	Settings Settings
}

// Put installs e as the component id, replacing everything an older
// component of that id had. Either all of e is installed or, on error,
// the old component is left as it was (see the package doc).
func (s *Store) Put(id string, e Entry) error {
	return s.put(id, e, false)
}

// errExists is returned by put when onlyNew is set and id is taken.
var errExists = errors.New("component exists")

func (s *Store) put(id string, e Entry, onlyNew bool) error {
	if err := ValidateID(id); err != nil {
		return fmt.Errorf("store component: %w", err)
	}
	if err := checkComponent("the code for "+id, e.Wasm); err != nil {
		return fmt.Errorf("store component: %w", err)
	}
	if e.Policy != nil {
		if _, err := policy.Parse(e.Policy); err != nil {
			return fmt.Errorf("store component %s: its policy: %w", id, err)
		}
	}
	settings := e.Settings
	settings.CodeDigest = digestOf(e.Wasm)
	settingsJSON, err := settings.Marshal()
	if err != nil {
		return fmt.Errorf("store component %s: %w", id, err)
	}

	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return fmt.Errorf("store component %s: %w", id, err)
	}
	if onlyNew {
		if _, err := os.Lstat(s.path(id, wasmSuffix)); err == nil {
			return errExists
		}
	}

	stage := s.stagingDir(id)
	ok := false
	defer func() {
		if !ok {
			// Nothing was committed: the old component is untouched, and
			// the staged files go (Open would discard them too).
			s.fs.removeAll(stage)
		}
	}()
	if err := s.fs.mkdirAll(stage, 0o700); err != nil {
		return s.writeError(id, err)
	}
	staged := func(suffix string) string { return filepath.Join(stage, id+suffix) }

	// The code first: the metadata's stamp needs its modification time,
	// which the rename into place keeps.
	if err := s.fs.writeFile(staged(wasmSuffix), e.Wasm, filePerm); err != nil {
		return s.writeError(id, err)
	}
	rec := commitRecord{Install: []string{wasmSuffix, settingsSuffix}}
	if e.Metadata != nil {
		fi, err := os.Stat(staged(wasmSuffix))
		if err != nil {
			return s.writeError(id, err)
		}
		m := *e.Metadata
		m.ComponentID = id
		m.ValidationStamp = stampOf(e.Wasm, fi.ModTime())
		if m.CreatedAt == 0 {
			m.CreatedAt = uint64(time.Now().Unix())
		}
		data, err := m.Marshal()
		if err != nil {
			return fmt.Errorf("store component %s: %w", id, err)
		}
		if err := s.fs.writeFile(staged(metadataSuffix), data, filePerm); err != nil {
			return s.writeError(id, err)
		}
		rec.Install = append(rec.Install, metadataSuffix)
	} else {
		rec.Remove = append(rec.Remove, metadataSuffix)
	}
	if e.Policy != nil {
		if err := s.fs.writeFile(staged(policySuffix), e.Policy, filePerm); err != nil {
			return s.writeError(id, err)
		}
		rec.Install = append(rec.Install, policySuffix)
	} else {
		rec.Remove = append(rec.Remove, policySuffix)
	}
	if err := s.fs.writeFile(staged(settingsSuffix), settingsJSON, filePerm); err != nil {
		return s.writeError(id, err)
	}
	rec.Remove = append(rec.Remove, wassetteExtraSuffixes...)
	if err := s.commit(id, rec); err != nil {
		return s.writeError(id, err)
	}
	ok = true
	if err := s.apply(id, rec); err != nil {
		return fmt.Errorf("store component %s: committed, but moving it into place failed (it is finished on the next access): %w", id, err)
	}
	return nil
}

func (s *Store) writeError(id string, err error) error {
	hint := ""
	if isNoSpace(err) {
		hint = ": the disk is full; free some space and load it again"
	}
	return fmt.Errorf("store component %s: %w%s (the previous version, if any, is unchanged)", id, err, hint)
}

// Remove deletes every file of the component id. It returns an error
// wrapping ErrNotFound when there is none.
func (s *Store) Remove(id string) error {
	if err := ValidateID(id); err != nil {
		return fmt.Errorf("remove component: %w", err)
	}
	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return fmt.Errorf("remove component %s: %w", id, err)
	}
	rec := commitRecord{Remove: append([]string{wasmSuffix, settingsSuffix, metadataSuffix, policySuffix}, wassetteExtraSuffixes...)}
	found := false
	for _, suffix := range rec.Remove {
		if _, err := os.Lstat(s.path(id, suffix)); err == nil {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("remove component %s: %w", id, ErrNotFound)
	}
	if err := s.fs.mkdirAll(s.stagingDir(id), 0o700); err != nil {
		return fmt.Errorf("remove component %s: %w", id, err)
	}
	if err := s.commit(id, rec); err != nil {
		s.fs.removeAll(s.stagingDir(id))
		return fmt.Errorf("remove component %s: %w (nothing was removed)", id, err)
	}
	if err := s.apply(id, rec); err != nil {
		return fmt.Errorf("remove component %s: partly done (it is finished on the next access): %w", id, err)
	}
	return nil
}

// commitRecord is a decided change of one id: files (by suffix) to move from
// the staging folder into place, and files to delete.
type commitRecord struct {
	Install []string `json:"install,omitempty"`
	Remove  []string `json:"remove,omitempty"`
}

func (r commitRecord) validate() error {
	known := append([]string{wasmSuffix, policySuffix, metadataSuffix, settingsSuffix}, wassetteExtraSuffixes...)
	for _, suffix := range append(slices.Clone(r.Install), r.Remove...) {
		if !slices.Contains(known, suffix) {
			return fmt.Errorf("commit record names an unknown file %q", suffix)
		}
	}
	// Replaying a record after a crash removes again what it removes: that
	// must never be a file it installed.
	for _, suffix := range r.Install {
		if slices.Contains(r.Remove, suffix) {
			return fmt.Errorf("commit record both installs and removes %q", suffix)
		}
	}
	return nil
}

// commit writes the commit record of id: from here on the change happens.
func (s *Store) commit(id string, rec commitRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	stage := s.stagingDir(id)
	tmp := filepath.Join(stage, commitFile+".tmp")
	if err := s.fs.writeFile(tmp, data, filePerm); err != nil {
		return err
	}
	if err := s.fs.rename(tmp, filepath.Join(stage, commitFile)); err != nil {
		return err
	}
	return s.fs.syncDir(stage)
}

// apply carries out a committed change. It can run again after a crash at
// any point: moved files are no longer staged, removed files are gone. Every
// reader of an id recovers it first, so nobody sees the change half done; the
// order (the code removed first, installed last) is for other programs
// looking at the folder.
func (s *Store) apply(id string, rec commitRecord) error {
	removals := slices.Clone(rec.Remove)
	if i := slices.Index(removals, wasmSuffix); i > 0 {
		removals[0], removals[i] = removals[i], removals[0]
	}
	for _, suffix := range removals {
		if err := s.fs.remove(s.path(id, suffix)); err != nil {
			return err
		}
	}
	stage := s.stagingDir(id)
	for _, suffix := range installOrder {
		if !slices.Contains(rec.Install, suffix) {
			continue
		}
		from := filepath.Join(stage, id+suffix)
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
			continue // moved before a crash
		}
		if err := s.fs.rename(from, s.path(id, suffix)); err != nil {
			return err
		}
	}
	if err := s.fs.syncDir(s.dir); err != nil {
		return err
	}
	return s.fs.removeAll(stage)
}

// recover finishes a committed change of id, or discards an uncommitted
// one. The caller holds the lock of id.
func (s *Store) recover(id string) error {
	stage := s.stagingDir(id)
	data, err := os.ReadFile(filepath.Join(stage, commitFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Lstat(stage); err == nil {
			return s.fs.removeAll(stage)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the interrupted change of %s: %w", id, err)
	}
	var rec commitRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("the interrupted change of %s in %s is damaged (%v): look at it, then delete that folder", id, stage, err)
	}
	if err := rec.validate(); err != nil {
		return fmt.Errorf("the interrupted change of %s in %s is damaged (%v): look at it, then delete that folder", id, stage, err)
	}
	if err := s.apply(id, rec); err != nil {
		return fmt.Errorf("finish the interrupted change of %s: %w", id, err)
	}
	return nil
}

// Component is everything stored of one component.
type Component struct {
	ID string
	// Wasm is the code, and Digest its sha256 ("sha256:<hex>"), computed as
	// it was read.
	Wasm   []byte
	Digest string
	// Policy is the policy.yaml, or nil when the component has none.
	Policy []byte
	// Metadata is nil when there is none, it cannot be read, or it
	// describes other code (then the runtime makes it anew).
	Metadata *Metadata
	Settings Settings
}

// Get reads the component id. It returns an error wrapping ErrNotFound when
// there is none.
func (s *Store) Get(id string) (*Component, error) {
	if err := ValidateID(id); err != nil {
		return nil, fmt.Errorf("read component: %w", err)
	}
	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return nil, fmt.Errorf("read component %s: %w", id, err)
	}
	wasm, err := os.ReadFile(s.path(id, wasmSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read component %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read component %s: %w", id, err)
	}
	c := &Component{ID: id, Wasm: wasm, Digest: digestOf(wasm)}
	c.Policy, err = os.ReadFile(s.path(id, policySuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read component %s: %w", id, err)
	}
	if c.Settings, err = s.readSettings(id); err != nil {
		return nil, fmt.Errorf("read component %s: %w", id, err)
	}
	if m, err := s.readMetadataFile(id); err == nil {
		st := m.ValidationStamp
		if st.FileSize == uint64(len(wasm)) && (st.ContentHash == "" || st.Digest() == c.Digest) {
			c.Metadata = m
		}
	}
	return c, nil
}

// Listing is one component as start-up sees it, without its code.
type Listing struct {
	ID string
	// Metadata is nil when there is none, it cannot be read, or its stamp
	// does not match the code's size and modification time.
	Metadata *Metadata
	Settings Settings
	// Err reports a settings file that cannot be read; the other
	// components are listed regardless.
	Err error
}

// List returns every stored component, ordered by id. It reads metadata and
// settings, never the code: its cost does not grow with the code's size.
func (s *Store) List() ([]Listing, error) {
	if err := s.finishPending(); err != nil {
		return nil, fmt.Errorf("list components: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list components in %s: %w", s.dir, err)
	}
	var out []Listing
	for _, e := range entries {
		id, isWasm := strings.CutSuffix(e.Name(), wasmSuffix)
		if !isWasm || e.IsDir() || ValidateID(id) != nil {
			continue
		}
		l := Listing{ID: id}
		l.Settings, l.Err = s.readSettings(id)
		if m, err := s.readMetadataFile(id); err == nil && s.stampMatches(id, m.ValidationStamp) {
			l.Metadata = m
		}
		out = append(out, l)
	}
	// File order is not id order ("a.b.wasm" sorts before "a.wasm").
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// finishPending recovers every id with a staged change, so that List never
// shows a half-made one.
func (s *Store) finishPending() error {
	pending, err := os.ReadDir(s.stagingRoot())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range pending {
		id := e.Name()
		if ValidateID(id) != nil {
			continue
		}
		unlock := s.lock(id)
		err := s.recover(id)
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) stampMatches(id string, st Stamp) bool {
	fi, err := os.Stat(s.path(id, wasmSuffix))
	return err == nil && uint64(fi.Size()) == st.FileSize && uint64(fi.ModTime().Unix()) == st.Mtime
}

// ErrStale is returned (wrapped) by ReadMetadata when the metadata describes
// other code than the component's: the runtime should make it anew.
var ErrStale = errors.New("metadata does not match the component's code")

// ReadMetadata returns the metadata of id when it matches the code's size and
// modification time. Errors wrap ErrNotFound (no metadata or no component)
// or ErrStale.
func (s *Store) ReadMetadata(id string) (*Metadata, error) {
	if err := ValidateID(id); err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return nil, fmt.Errorf("read metadata of %s: %w", id, err)
	}
	m, err := s.readMetadataFile(id)
	if err != nil {
		return nil, fmt.Errorf("read metadata of %s: %w", id, err)
	}
	if !s.stampMatches(id, m.ValidationStamp) {
		return nil, fmt.Errorf("read metadata of %s: %w", id, ErrStale)
	}
	return m, nil
}

// WriteMetadata stores m as the metadata of id, made from the code whose
// digest is codeDigest. It refuses when the stored code is not that code
// (it changed since the caller read it), with an error wrapping ErrStale.
func (s *Store) WriteMetadata(id, codeDigest string, m *Metadata) error {
	if err := ValidateID(id); err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return fmt.Errorf("write metadata of %s: %w", id, err)
	}
	wasmPath := s.path(id, wasmSuffix)
	wasm, err := os.ReadFile(wasmPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write metadata of %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("write metadata of %s: %w", id, err)
	}
	if got := digestOf(wasm); got != codeDigest {
		return fmt.Errorf("write metadata of %s: made from %s but the stored code is %s: %w", id, codeDigest, got, ErrStale)
	}
	fi, err := os.Stat(wasmPath)
	if err != nil {
		return fmt.Errorf("write metadata of %s: %w", id, err)
	}
	out := *m
	out.ComponentID = id
	out.ValidationStamp = stampOf(wasm, fi.ModTime())
	if out.CreatedAt == 0 {
		out.CreatedAt = uint64(time.Now().Unix())
	}
	data, err := out.Marshal()
	if err != nil {
		return fmt.Errorf("write metadata of %s: %w", id, err)
	}
	if err := s.fs.replaceFile(s.path(id, metadataSuffix), data, filePerm); err != nil {
		return fmt.Errorf("write metadata of %s: %w", id, err)
	}
	return nil
}

// Settings returns the settings of id: the zero Settings when the component
// has no settings file (one imported from Wassette, say). It returns an error
// wrapping ErrNotFound when there is no component id.
func (s *Store) Settings(id string) (Settings, error) {
	if err := ValidateID(id); err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return Settings{}, fmt.Errorf("read settings of %s: %w", id, err)
	}
	if _, err := os.Lstat(s.path(id, wasmSuffix)); errors.Is(err, fs.ErrNotExist) {
		return Settings{}, fmt.Errorf("read settings of %s: %w", id, ErrNotFound)
	}
	st, err := s.readSettings(id)
	if err != nil {
		return Settings{}, fmt.Errorf("read settings of %s: %w", id, err)
	}
	return st, nil
}

// SetSettings replaces the settings of id, atomically. CodeDigest stays the
// store's: the value in st is ignored.
func (s *Store) SetSettings(id string, st Settings) error {
	if err := ValidateID(id); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	unlock := s.lock(id)
	defer unlock()
	if err := s.recover(id); err != nil {
		return fmt.Errorf("write settings of %s: %w", id, err)
	}
	if _, err := os.Lstat(s.path(id, wasmSuffix)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write settings of %s: %w", id, ErrNotFound)
	}
	old, err := s.readSettings(id)
	if err != nil {
		return fmt.Errorf("write settings of %s: %w", id, err)
	}
	st.CodeDigest = old.CodeDigest
	data, err := st.Marshal()
	if err != nil {
		return fmt.Errorf("write settings of %s: %w", id, err)
	}
	if err := s.fs.replaceFile(s.path(id, settingsSuffix), data, filePerm); err != nil {
		return fmt.Errorf("write settings of %s: %w", id, err)
	}
	return nil
}

func (s *Store) readSettings(id string) (Settings, error) {
	path := s.path(id, settingsSuffix)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	st, err := ParseSettings(data)
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w; fix it, or delete it to reset the component's settings", path, err)
	}
	return st, nil
}

func (s *Store) readMetadataFile(id string) (*Metadata, error) {
	data, err := os.ReadFile(s.path(id, metadataSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return ParseMetadata(data)
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func stampOf(wasm []byte, mtime time.Time) Stamp {
	sum := sha256.Sum256(wasm)
	return Stamp{FileSize: uint64(len(wasm)), Mtime: uint64(mtime.Unix()), ContentHash: hex.EncodeToString(sum[:])}
}
