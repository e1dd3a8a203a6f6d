package clients

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"

	"tapedeck.dev/tapedeck/internal/atomicfile"
)

// Errors a caller can branch on (with errors.Is / errors.As).
var (
	// ErrUnknownClient reports a name that is not in the table.
	ErrUnknownClient = errors.New("unknown client")
	// ErrNotInstalled reports a client whose config folder does not exist.
	ErrNotInstalled = errors.New("not installed")
	// ErrChanged reports a config file that changed while Tapedeck was
	// editing it; nothing was written, and trying again is safe.
	ErrChanged = errors.New("the file changed while Tapedeck was editing it; nothing was written, try again")
	// ErrReadOnly reports a config file without write permission: someone
	// (or a tool such as home-manager) made it read-only, so it is left alone.
	ErrReadOnly = errors.New("the file is read-only; make it writable (chmod u+w) to let Tapedeck edit it")
)

// FileError is a failed edit of one config file.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Status is what Tapedeck knows about one client.
type Status struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	// Installed: the client's config file or folder exists.
	Installed bool `json:"installed"`
	// Connected: the config holds Tapedeck's entry.
	Connected bool `json:"connected"`
	// UpToDate: Tapedeck's entry runs Options.Binary as it should.
	UpToDate bool `json:"up_to_date"`
	// Conflict: an entry named "tapedeck" exists and is not Tapedeck's.
	Conflict     bool     `json:"conflict,omitempty"`
	ConfigPath   string   `json:"config_path"`
	AlsoPaths    []string `json:"also_paths,omitempty"`
	NeedsRestart bool     `json:"needs_restart"`
	// Error is why the status could not be read (a file that does not
	// parse, say); empty when it could.
	Error string `json:"error,omitempty"`
}

// Change is one file edit, made or (in a dry run) proposed.
type Change struct {
	Path          string
	Before, After []byte
	Created       bool // the file did not exist
	Removed       bool // the file is deleted (it held nothing but our entry)
}

// Result is the outcome of Connect or Disconnect for one client. No
// changes means there was nothing to do.
type Result struct {
	Client       string
	Changes      []Change
	NeedsRestart bool // the client must be restarted to see the change
}

// Manager edits clients' configs. Its methods may be called from several
// goroutines and processes at once: every file edit holds a lock.
type Manager struct {
	opts Options
	// beforeWrite, when set, runs after the edit is computed and before the
	// file is checked and replaced; tests use it to play a concurrent writer.
	beforeWrite func(path string)
}

// New returns a Manager for opts.
func New(opts Options) *Manager { return &Manager{opts: opts} }

func (m *Manager) dataDir() (string, error) {
	if m.opts.DataDir != "" {
		return m.opts.DataDir, nil
	}
	return DefaultDataDir(m.opts)
}

func editorFor(c Client) docEditor {
	switch c.Format {
	case FormatYAML:
		return yamlEditor{servers: c.Servers[0], list: c.Entry == EntryContinue}
	case FormatTOML:
		return tomlEditor{servers: c.Servers[0]}
	}
	return jsonEditor{servers: c.Servers[0], jsonc: c.Format == FormatJSONC}
}

// docEditor edits one format. Its methods are pure: bytes in, bytes out.
type docEditor interface {
	// decode parses a whole document into generic values (nil when empty).
	decode(data []byte) (any, error)
	// entry returns the value under our key, if any.
	entry(data []byte) (value any, found bool, err error)
	// upsert adds our entry or brings it up to date; ErrNotOurs when the
	// key holds a stranger's entry.
	upsert(data []byte, want []field) ([]byte, error)
	// remove deletes our entry, undoing upsert byte for byte.
	remove(data []byte) ([]byte, error)
}

func lookup(name string) (Client, error) {
	c, ok := Lookup(name)
	if !ok {
		return Client{}, fmt.Errorf("%w %q", ErrUnknownClient, name)
	}
	return c, nil
}

// Status reports on the client called name.
func (m *Manager) Status(name string) (Status, error) {
	c, err := lookup(name)
	if err != nil {
		return Status{}, err
	}
	st := Status{Name: c.Name, DisplayName: c.DisplayName, NeedsRestart: c.Restart}
	loc, err := m.opts.locate(c)
	if err != nil {
		return st, err
	}
	st.Installed, st.ConfigPath, st.AlsoPaths = loc.installed, loc.file, loc.also
	data, err := os.ReadFile(loc.file)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, &FileError{loc.file, err}
	}
	cur, found, err := editorFor(c).entry(data)
	if err != nil {
		return st, &FileError{loc.file, err}
	}
	if found {
		st.Connected = isOurs(cur)
		st.Conflict = !st.Connected
		st.UpToDate = st.Connected && m.opts.Binary != "" && upToDate(cur, c.Entry.fields(m.opts.Binary))
	}
	return st, nil
}

// StatusAll reports on every client, in name order; a client whose status
// could not be read has Error set.
func (m *Manager) StatusAll() []Status {
	var out []Status
	for _, c := range Clients() {
		st, err := m.Status(c.Name)
		if err != nil {
			st.Error = err.Error()
		}
		out = append(out, st)
	}
	return out
}

// Connect adds Tapedeck's entry to the client's config, or brings it up to
// date. With dryRun it only reports the change it would make.
//
// # Errors
//
// ErrUnknownClient, ErrNotInstalled, ErrNotOurs (a stranger's entry under
// our key, left alone), *SyntaxError (a file that does not parse, left
// alone), ErrChanged; each wrapped in a *FileError naming the file.
func (m *Manager) Connect(name string, dryRun bool) (Result, error) {
	if m.opts.Binary == "" || !filepath.IsAbs(m.opts.Binary) {
		return Result{}, fmt.Errorf("connect %s: no absolute path to the tapedeck binary (pass --command PATH)", name)
	}
	return m.edit(name, dryRun, true)
}

// Disconnect removes Tapedeck's entry from the client's config and nothing
// else. A file that held nothing but our entry is removed. With dryRun it
// only reports the change it would make. Its errors are Connect's.
func (m *Manager) Disconnect(name string, dryRun bool) (Result, error) {
	return m.edit(name, dryRun, false)
}

func (m *Manager) edit(name string, dryRun, connect bool) (Result, error) {
	c, err := lookup(name)
	if err != nil {
		return Result{}, err
	}
	loc, err := m.opts.locate(c)
	if err != nil {
		return Result{}, err
	}
	res := Result{Client: c.Name}
	if !loc.installed {
		if !connect {
			return res, nil
		}
		return res, fmt.Errorf("%s: %w (no %s)", c.DisplayName, ErrNotInstalled, filepath.Dir(loc.file))
	}
	dataDir, err := m.dataDir()
	if err != nil {
		return res, err
	}
	for _, path := range append([]string{loc.file}, loc.also...) {
		f := fileEdit{client: c, ed: editorFor(c), path: path, dataDir: dataDir, dryRun: dryRun,
			beforeWrite: m.beforeWrite, opts: &m.opts}
		if path == loc.file {
			f.cli = m.opts.clientCLI(c)
		}
		var ch *Change
		if connect {
			ch, err = f.connect(c.Entry.fields(m.opts.Binary))
		} else {
			ch, err = f.disconnect()
		}
		if err != nil {
			return res, &FileError{path, err}
		}
		if ch != nil {
			res.Changes = append(res.Changes, *ch)
		}
	}
	res.NeedsRestart = c.Restart && len(res.Changes) > 0
	return res, nil
}

// fileEdit is one edit of one config file.
type fileEdit struct {
	client  Client
	ed      docEditor
	path    string
	dataDir string
	dryRun  bool
	// beforeWrite is Manager.beforeWrite.
	beforeWrite func(path string)
	// cli is the client's own CLI, when it does the edit.
	cli  string
	opts *Options
}

// record is what Tapedeck remembers about a file it connected: the bytes
// it wrote and the bytes before, so that a disconnect while the file is
// still exactly as we left it restores the original byte for byte.
type record struct {
	Path      string `json:"path"`
	Existed   bool   `json:"existed"`    // the file existed before we connected
	WroteHash string `json:"wrote_hash"` // sha256 of what we wrote
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// stateName is the file-name stem of this config file's lock, backup and
// record in the data folder.
func (f *fileEdit) stateName() string {
	abs, _ := filepath.Abs(f.path)
	return f.client.Name + "-" + hashOf([]byte(abs))[:16]
}

func (f *fileEdit) statePath(ext string) string {
	return filepath.Join(f.dataDir, "clients", f.stateName()+ext)
}

func (f *fileEdit) read() ([]byte, bool, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (f *fileEdit) loadRecord() (record, []byte, bool) {
	var r record
	b, err := os.ReadFile(f.statePath(".json"))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return r, nil, false
	}
	orig, err := os.ReadFile(f.statePath(".bak"))
	if err != nil && r.Existed {
		return r, nil, false
	}
	return r, orig, true
}

func (f *fileEdit) connect(want []field) (*Change, error) {
	unlock, err := f.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ch, err := f.planConnect(want)
	if err != nil || ch == nil || f.dryRun {
		return ch, err
	}
	// Keep the original from before our first connect: an update of our
	// own entry must not make a connected file the one to restore.
	rec, _, ok := f.loadRecord()
	if !ok || rec.WroteHash != hashOf(ch.Before) {
		if err := f.saveBackup(ch.Before, !ch.Created); err != nil {
			return nil, err
		}
	}
	if f.cli != "" {
		if err := f.connectWithCLI(ch.Before, want); err == nil {
			ch.After, _, _ = f.read()
			return ch, f.saveRecord(ch.After)
		}
		// The client's CLI failed (an old version, say, or a broken
		// install): do the edit ourselves, from what the file holds now.
		if ch, err = f.planConnect(want); err != nil || ch == nil {
			return ch, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return nil, err
	}
	if err := f.write(ch.Before, !ch.Created, ch.After); err != nil {
		return nil, err
	}
	if err := f.verify(ch.After, want); err != nil {
		return nil, err
	}
	return ch, f.saveRecord(ch.After)
}

// planConnect reads the file and computes the connect edit; nil means there
// is nothing to do.
func (f *fileEdit) planConnect(want []field) (*Change, error) {
	before, existed, err := f.read()
	if err != nil {
		return nil, err
	}
	if err := f.checkWritable(); err != nil {
		return nil, err
	}
	after, err := f.ed.upsert(before, want)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(after, before) {
		return nil, nil
	}
	if err := checkEdit(f.ed, f.client, before, after, want); err != nil {
		return nil, err
	}
	return &Change{Path: f.path, Before: before, After: after, Created: !existed}, nil
}

// connectWithCLI has the client's own CLI write our entry (removing a
// stale one first, since its add refuses a name in use), then checks the
// file by content.
func (f *fileEdit) connectWithCLI(before []byte, want []field) error {
	if _, found, err := f.ed.entry(before); err != nil {
		return err
	} else if found {
		if err := f.opts.runCLI(f.cli, f.client.CLI.Remove); err != nil {
			return err
		}
	}
	if err := f.opts.runCLI(f.cli, cliArgs(f.client.CLI.Add, want)); err != nil {
		return err
	}
	return f.verify(nil, want)
}

func (f *fileEdit) disconnect() (*Change, error) {
	unlock, err := f.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	before, existed, err := f.read()
	if err != nil || !existed {
		return nil, err
	}
	if err := f.checkWritable(); err != nil {
		return nil, err
	}
	after, err := f.ed.remove(before)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(after, before) {
		return nil, nil
	}
	removeFile := len(bytes.TrimSpace(bytes.TrimPrefix(after, bom))) == 0
	// Unchanged since we wrote it: restore what was there before, exactly.
	restore := false
	if rec, orig, ok := f.loadRecord(); ok && rec.WroteHash == hashOf(before) {
		if _, found, err := f.ed.entry(orig); err == nil && !found {
			after, removeFile, restore = orig, !rec.Existed, true
		}
	}
	if err := checkEdit(f.ed, f.client, before, after, nil); err != nil {
		return nil, err
	}
	ch := &Change{Path: f.path, Before: before, After: after, Removed: removeFile}
	if removeFile {
		ch.After = nil
	}
	if f.dryRun {
		return ch, nil
	}
	if err := f.saveBackup(before, true); err != nil {
		return nil, err
	}
	if f.cli != "" && !restore {
		if err := f.opts.runCLI(f.cli, f.client.CLI.Remove); err == nil {
			if err := f.verify(nil, nil); err != nil {
				return nil, err
			}
			os.Remove(f.statePath(".json"))
			ch.After, _, _ = f.read()
			return ch, nil
		}
		// As for connect: without a working CLI, edit the file ourselves.
		if now, _, err := f.read(); err != nil || !bytes.Equal(now, before) {
			return nil, ErrChanged
		}
	}
	if removeFile {
		if err := f.checkUnchanged(before, true); err != nil {
			return nil, err
		}
		if err := os.Remove(f.path); err != nil {
			return nil, err
		}
	} else {
		if err := f.write(before, true, after); err != nil {
			return nil, err
		}
		if err := f.verify(after, nil); err != nil {
			return nil, err
		}
	}
	os.Remove(f.statePath(".json"))
	return ch, nil
}

// checkWritable refuses a file whose owner may not write it. (Root could
// write it anyway; the mode says the owner wants it left alone.)
func (f *fileEdit) checkWritable() error {
	fi, err := os.Stat(f.path)
	if err != nil || fi.Mode().Perm()&0o200 != 0 {
		return nil
	}
	return ErrReadOnly
}

// checkUnchanged re-reads the file and fails with ErrChanged when it is not
// as it was when the edit was computed.
func (f *fileEdit) checkUnchanged(before []byte, existed bool) error {
	if f.beforeWrite != nil {
		f.beforeWrite(f.path)
	}
	now, nowExists, err := f.read()
	if err != nil {
		return err
	}
	if nowExists != existed || !bytes.Equal(now, before) {
		return ErrChanged
	}
	return nil
}

// write replaces the file with after, atomically, if it still holds before.
func (f *fileEdit) write(before []byte, existed bool, after []byte) error {
	if err := f.checkUnchanged(before, existed); err != nil {
		return err
	}
	return atomicfile.WriteFile(f.path, after, 0o600)
}

// verify re-reads the file after a write. A client that rewrites its own
// file may already have changed the bytes, so for those the check is that
// our entry reads back as written.
func (f *fileEdit) verify(after []byte, want []field) error {
	now, _, err := f.read()
	if err != nil {
		return fmt.Errorf("re-read after writing: %w", err)
	}
	if bytes.Equal(now, after) {
		return nil
	}
	if f.client.RewritesOwnFile {
		cur, found, err := f.ed.entry(now)
		if err == nil && found == (want != nil) && (want == nil || upToDate(cur, want)) {
			return nil
		}
	}
	return fmt.Errorf("re-read after writing: the file does not hold what was written (another program changed it); check it, then try again")
}

func (f *fileEdit) saveBackup(data []byte, existed bool) error {
	if err := os.MkdirAll(filepath.Join(f.dataDir, "clients"), 0o700); err != nil {
		return fmt.Errorf("keep a backup: %w", err)
	}
	if existed {
		if err := atomicfile.WriteFile(f.statePath(".bak"), data, 0o600); err != nil {
			return fmt.Errorf("keep a backup: %w", err)
		}
	} else {
		os.Remove(f.statePath(".bak"))
	}
	r := record{Path: f.path, Existed: existed}
	b, _ := json.Marshal(r) // a record always encodes
	return atomicfile.WriteFile(f.statePath(".json"), b, 0o600)
}

func (f *fileEdit) saveRecord(wrote []byte) error {
	r, _, _ := f.loadRecord()
	r.Path = f.path
	r.WroteHash = hashOf(wrote)
	b, _ := json.Marshal(r) // a record always encodes
	if err := atomicfile.WriteFile(f.statePath(".json"), b, 0o600); err != nil {
		return fmt.Errorf("remember the edit: %w", err)
	}
	return nil
}

// checkEdit checks an edit by meaning: after parses, holds our entry as
// wanted (or none, for want == nil), and everything else in it equals
// before's.
func checkEdit(ed docEditor, c Client, before, after []byte, want []field) error {
	bdoc, err := ed.decode(before)
	if err != nil {
		return err
	}
	adoc, err := ed.decode(after)
	if err != nil {
		return fmt.Errorf("internal error: the edited file would not parse (%v); nothing was written", err)
	}
	brest, _ := stripOurs(bdoc, c)
	arest, ours := stripOurs(adoc, c)
	switch {
	case want == nil && ours != nil:
		return errors.New("internal error: our entry is still there after removing it; nothing was written")
	case want != nil && (ours == nil || !upToDate(ours, want)):
		return errors.New("internal error: the edited file does not hold our entry; nothing was written")
	case !reflect.DeepEqual(brest, arest):
		return errors.New("internal error: the edit would change more than our entry; nothing was written")
	}
	return nil
}

// stripOurs returns a normalized copy of doc without our entry (and without
// a servers collection left empty), and our entry.
func stripOurs(doc any, c Client) (rest, ours any) {
	root, _ := normalize(doc).(map[string]any)
	if root == nil {
		root = map[string]any{}
	}
	key := c.Servers[0]
	switch servers := root[key].(type) {
	case map[string]any:
		ours = servers[EntryKey]
		delete(servers, EntryKey)
		if len(servers) == 0 {
			delete(root, key)
		}
	case []any:
		var kept []any
		for _, item := range servers {
			if m, ok := item.(map[string]any); ok && m["name"] == EntryKey {
				ours = item
				continue
			}
			kept = append(kept, item)
		}
		root[key] = kept
		if len(kept) == 0 {
			delete(root, key)
		}
	case nil:
		delete(root, key)
	}
	return root, ours
}
